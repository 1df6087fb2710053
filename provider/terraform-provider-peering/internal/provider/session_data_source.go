package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/peering-operator/peering-operator/provider/terraform-provider-peering/internal/iptype"
	"github.com/peering-operator/peering-operator/provider/terraform-provider-peering/internal/session"
)

var _ datasource.DataSourceWithConfigure = &sessionDataSource{}

// NewSessionDataSource is the peering_session data source: one session read by id.
func NewSessionDataSource() datasource.DataSource { return &sessionDataSource{} }

type sessionDataSource struct {
	data *providerData
}

type sessionDataModel struct {
	SessionID types.String `tfsdk:"session_id"`
	APIURL    types.String `tfsdk:"api_url"`
	sessionTermsModel
	Status types.String `tfsdk:"status"`
}

func (d *sessionDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_session"
}

func (d *sessionDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	computed := func(description string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, Description: description}
	}
	resp.Schema = schema.Schema{
		Description: "One session at a peer's Peering API, read by id, in your reading (local_* is your network).",
		Attributes: map[string]schema.Attribute{
			"session_id": schema.StringAttribute{Required: true, Description: "The session id (a UUID)."},
			"api_url": schema.StringAttribute{
				Optional: true, Computed: true, Validators: []validator.String{apiURLValidator{}},
				Description: "Base URL of the peer's Peering API. Default: the provider's api_url.",
			},
			"local_asn":                schema.Int64Attribute{Computed: true, Description: "Your ASN."},
			"peer_asn":                 schema.Int64Attribute{Computed: true, Description: "The peer's ASN."},
			"location":                 computed("pdb:ix:<id> or pdb:fac:<id>."),
			"local_ip":                 schema.StringAttribute{CustomType: iptype.AddressType{}, Computed: true, Description: "Your address."},
			"peer_ip":                  schema.StringAttribute{CustomType: iptype.AddressType{}, Computed: true, Description: "The peer's address."},
			"peer_type":                computed("public or private."),
			"local_bgp_role":           schema.Int64Attribute{Computed: true, Description: "Your RFC 9234 role, if any."},
			"peer_bgp_role":            schema.Int64Attribute{Computed: true, Description: "The peer's RFC 9234 role, if any."},
			"local_insert_asn":         schema.BoolAttribute{Computed: true, Description: "Whether you insert your ASN."},
			"peer_insert_asn":          schema.BoolAttribute{Computed: true, Description: "Whether the peer inserts its ASN."},
			"local_monitoring_session": schema.BoolAttribute{Computed: true, Description: "Whether your side only monitors."},
			"peer_monitoring_session":  schema.BoolAttribute{Computed: true, Description: "Whether the peer's side only monitors."},
			"status":                   computed("The session's status at the peer."),
		},
	}
}

func (d *sessionDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	if data := configuredData(req.ProviderData, &resp.Diagnostics); data != nil {
		d.data = data
	}
}

func (d *sessionDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	if d.data == nil || d.data.client == nil {
		resp.Diagnostics.AddError("Provider not configured", "the peering provider was not configured before the data source was read")
		return
	}
	var m sessionDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !session.ValidSessionID(m.SessionID.ValueString()) {
		resp.Diagnostics.AddAttributeError(path.Root("session_id"), "Invalid session_id",
			fmt.Sprintf("session_id: %q is not a session id (a UUID)", m.SessionID.ValueString()))
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
	got, err := api.GetSession(ctx, m.SessionID.ValueString())
	if err != nil {
		addAPIError(&resp.Diagnostics, "Cannot read session "+m.SessionID.ValueString(), err)
		return
	}
	t, err := session.FromWire(*got, d.data.localASN)
	if err != nil {
		// Another of our ASNs (a token may hold several): our server's reading, the REQUEST one.
		t, err = session.FromWire(*got, 0)
	}
	if err != nil {
		resp.Diagnostics.AddError("The session is not ours", err.Error())
		return
	}
	m.APIURL = types.StringValue(api.BaseURL())
	m.setTerms(t)
	m.Status = types.StringValue(session.Status(got.Status))
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
