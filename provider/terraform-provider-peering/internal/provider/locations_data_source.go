package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ datasource.DataSourceWithConfigure = &locationsDataSource{}

// NewLocationsDataSource is the peering_locations data source: where the peer can be peered with (GET
// /locations, every page).
func NewLocationsDataSource() datasource.DataSource { return &locationsDataSource{} }

type locationsDataSource struct {
	data *providerData
}

type locationsModel struct {
	APIURL       types.String    `tfsdk:"api_url"`
	PeerASN      types.Int64     `tfsdk:"peer_asn"`
	LocationType types.String    `tfsdk:"location_type"`
	Locations    []locationModel `tfsdk:"locations"`
}

type locationModel struct {
	ID      types.String `tfsdk:"id"`
	Type    types.String `tfsdk:"type"`
	PeerASN types.Int64  `tfsdk:"peer_asn"`
	Name    types.String `tfsdk:"name"`
	PeerIPs types.List   `tfsdk:"peer_ips"`
}

func (d *locationsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_locations"
}

func (d *locationsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "The locations where the peer (the network whose API is called) can be peered with, and its addresses " +
			"there. The wire's `asn` and `local_ips` are the peer's: here they are peer_asn and peer_ips, as in peering_session.",
		Attributes: map[string]schema.Attribute{
			"api_url": schema.StringAttribute{
				Optional: true, Computed: true, Validators: []validator.String{apiURLValidator{}},
				Description: "Base URL of the peer's Peering API. Default: the provider's api_url.",
			},
			"peer_asn": schema.Int64Attribute{
				Optional: true, Validators: []validator.Int64{int64validator.Between(1, MaxASN)},
				Description: "Only the locations of this ASN of the peer (a peer may have several); absent: all. An ASN the peer does not serve has none.",
			},
			"location_type": schema.StringAttribute{
				Optional: true, Validators: []validator.String{stringvalidator.OneOf("public", "private")},
				Description: "Only public (exchanges) or private (facilities) locations.",
			},
			"locations": schema.ListNestedAttribute{
				Computed:    true,
				Description: "The locations, in the peer's order.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"id":       schema.StringAttribute{Computed: true, Description: "pdb:ix:<id> or pdb:fac:<id>: the location of a peering_session."},
					"type":     schema.StringAttribute{Computed: true, Description: "public or private."},
					"peer_asn": schema.Int64Attribute{Computed: true, Description: "The peer's ASN at this location."},
					"name":     schema.StringAttribute{Computed: true, Description: "The exchange's or facility's name in PeeringDB."},
					"peer_ips": schema.ListAttribute{Computed: true, ElementType: types.StringType, Description: "The peer's addresses at an exchange: candidates for peer_ip."},
				}},
			},
		},
	}
}

func (d *locationsDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	if data := configuredData(req.ProviderData, &resp.Diagnostics); data != nil {
		d.data = data
	}
}

func (d *locationsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	if d.data == nil || d.data.client == nil {
		resp.Diagnostics.AddError("Provider not configured", "the peering provider was not configured before the data source was read")
		return
	}
	var m locationsModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	apiURL := m.APIURL.ValueString()
	if apiURL == "" {
		apiURL = d.data.apiURL
	}
	if apiURL == "" {
		resp.Diagnostics.AddAttributeError(path.Root("api_url"), "Missing api_url", "api_url: set it here, or in the provider block (or "+EnvAPIURL+")")
		return
	}
	api := d.data.client.At(apiURL)
	found, err := api.ListLocations(ctx, m.PeerASN.ValueInt64(), m.LocationType.ValueString())
	if err != nil {
		addAPIError(&resp.Diagnostics, "Cannot list the peer's locations", err)
		return
	}
	m.APIURL = types.StringValue(api.BaseURL())
	m.Locations = make([]locationModel, 0, len(found))
	for _, l := range found {
		ips := make([]attr.Value, 0, len(l.LocalIPs))
		for _, ip := range l.LocalIPs {
			ips = append(ips, types.StringValue(ip))
		}
		name := types.StringNull()
		if l.Name != "" {
			name = types.StringValue(l.Name)
		}
		list, diags := types.ListValue(types.StringType, ips)
		resp.Diagnostics.Append(diags...)
		m.Locations = append(m.Locations, locationModel{
			ID: types.StringValue(l.ID), Type: types.StringValue(l.Type), PeerASN: types.Int64Value(l.ASN), Name: name, PeerIPs: list,
		})
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
