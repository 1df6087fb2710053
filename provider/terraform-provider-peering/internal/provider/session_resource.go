package provider

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/resourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/peering-operator/peering-operator/provider/terraform-provider-peering/internal/iptype"
	"github.com/peering-operator/peering-operator/provider/terraform-provider-peering/internal/peeringapi"
	"github.com/peering-operator/peering-operator/provider/terraform-provider-peering/internal/session"
)

// DefaultWaitTimeout bounds wait_for_status when wait_timeout is not set.
const DefaultWaitTimeout = 10 * time.Minute

var (
	_ resource.Resource                     = &sessionResource{}
	_ resource.ResourceWithConfigure        = &sessionResource{}
	_ resource.ResourceWithImportState      = &sessionResource{}
	_ resource.ResourceWithModifyPlan       = &sessionResource{}
	_ resource.ResourceWithValidateConfig   = &sessionResource{}
	_ resource.ResourceWithConfigValidators = &sessionResource{}
)

// NewSessionResource is the peering_session resource: one BGP session asked of one peer's Peering API.
func NewSessionResource() resource.Resource { return &sessionResource{} }

type sessionResource struct {
	data *providerData
}

// firstPoll is the wait before wait_for_status first reads the session again; later waits grow by half up to
// maxPoll, so a slow peer is not polled a thousand times an hour per session.
const (
	firstPoll = time.Second
	maxPoll   = 15 * time.Second
)

func (r *sessionResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_session"
}

func (r *sessionResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	replaceInt := []planmodifier.Int64{int64planmodifier.RequiresReplace()}
	replaceBool := []planmodifier.Bool{boolplanmodifier.RequiresReplace()}
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	// Values the configuration may leave to the provider or the location: the state's value stands until
	// ModifyPlan puts the inherited one in (and replaces the session if it differs), so an unrelated change
	// (wait_for_status) never replaces a session.
	inherited := []planmodifier.String{stringplanmodifier.UseStateForUnknown(), stringplanmodifier.RequiresReplace()}
	inheritedInt := []planmodifier.Int64{int64planmodifier.UseStateForUnknown(), int64planmodifier.RequiresReplace()}
	role := []validator.Int64{int64validator.Between(0, 4)}
	asn := []validator.Int64{int64validator.Between(1, MaxASN)}
	resp.Schema = schema.Schema{
		Description: "One BGP session asked of a peer through its Peering API. `local_*` is your network, `peer_*` the " +
			"network whose API is called. A session's terms cannot be changed in place: every change of a term " +
			"replaces the session (de-peer, then ask again). Removing the resource de-peers the session.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed: true, PlanModifiers: keep,
				Description: "The session id the peer gave (a UUID); the same as session_id.",
			},
			"session_id": schema.StringAttribute{
				Computed: true, PlanModifiers: keep,
				Description: "The session id the peer gave (a UUID).",
			},
			"api_url": schema.StringAttribute{
				Optional: true, Computed: true, PlanModifiers: inherited,
				Description: "Base URL of the peer's Peering API, base path included. Default: the provider's api_url. " +
					"Changing it (here or in the provider) replaces the session: it is de-peered at the old API.",
				Validators: []validator.String{apiURLValidator{}},
			},
			"local_asn": schema.Int64Attribute{
				Optional: true, Computed: true, PlanModifiers: inheritedInt, Validators: asn,
				Description: "Your ASN. Default: the provider's local_asn.",
			},
			"peer_asn": schema.Int64Attribute{
				Required: true, PlanModifiers: replaceInt, Validators: asn,
				Description: "The peer's ASN: the network whose API api_url is.",
			},
			"location": schema.StringAttribute{
				Required: true, PlanModifiers: replace,
				Validators:  []validator.String{stringvalidator.RegexMatches(locationPattern, session.LocationRule)},
				Description: "Where: pdb:ix:<PeeringDB ix id> for an exchange (public), pdb:fac:<facility id> for a private interconnect.",
			},
			"local_ip": schema.StringAttribute{
				CustomType: iptype.AddressType{}, Required: true, PlanModifiers: replace,
				Description: "Your address on the session (IPv4 or IPv6; any spelling of the same address is the same value).",
			},
			"peer_ip": schema.StringAttribute{
				CustomType: iptype.AddressType{}, Required: true, PlanModifiers: replace,
				Description: "The peer's address on the session, of the same family as local_ip.",
			},
			"peer_type": schema.StringAttribute{
				Optional: true, Computed: true, PlanModifiers: inherited,
				Validators:  []validator.String{stringvalidator.OneOf("public", "private")},
				Description: "public (over an exchange LAN) or private (a cross-connect). Default: what the location is.",
			},
			"local_bgp_role": schema.Int64Attribute{
				Optional: true, PlanModifiers: replaceInt, Validators: role,
				Description: "Your RFC 9234 BGP role: 0 Provider, 1 Route Server, 2 Route Server Client, 3 Customer, 4 Peer. Give both roles or neither.",
			},
			"peer_bgp_role": schema.Int64Attribute{
				Optional: true, PlanModifiers: replaceInt, Validators: role,
				Description: "The peer's RFC 9234 BGP role; role-correct with local_bgp_role (provider/customer, route server/client, peer/peer).",
			},
			"local_insert_asn": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(session.DefaultInsertASN), PlanModifiers: replaceBool,
				Description: "Whether you insert your ASN in the AS path (false for a route server). Default true.",
			},
			"peer_insert_asn": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(session.DefaultInsertASN), PlanModifiers: replaceBool,
				Description: "Whether the peer inserts its ASN in the AS path. Default true.",
			},
			"local_monitoring_session": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(session.DefaultMonitoringSession), PlanModifiers: replaceBool,
				Description: "Whether your side only monitors (sends no routes). Default false; never both sides.",
			},
			"peer_monitoring_session": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(session.DefaultMonitoringSession), PlanModifiers: replaceBool,
				Description: "Whether the peer's side only monitors. Default false; never both sides.",
			},
			"session_secret": schema.StringAttribute{
				Optional: true, Sensitive: true, WriteOnly: true,
				Validators: []validator.String{
					stringvalidator.LengthBetween(1, 80),
					stringvalidator.RegexMatches(secretPattern, "must be printable ASCII without spaces, \" or \\ (what every router takes)"),
				},
				Description: "The session's MD5/TCP-AO secret, sent when the session is asked for and never stored in state or plan " +
					"(write-only; Terraform >= 1.11). Terraform cannot see a change of it: bump session_secret_version to send a new one.",
			},
			"session_secret_version": schema.Int64Attribute{
				Optional: true,
				PlanModifiers: []planmodifier.Int64{int64planmodifier.RequiresReplaceIf(secretVersionChanged,
					"A changed version replaces the session so that the new secret is sent; a first version after an import is only recorded.",
					"A changed version replaces the session so that the new secret is sent; a first version after an import is only recorded.")},
				Description: "Any number you change to send session_secret again. The API cannot change a session's secret in place, " +
					"so a new version replaces the session (de-peer, then ask again with the new secret). After an import the " +
					"version is unknown: the first one written is recorded without replacing the session.",
			},
			"wait_for_status": schema.StringAttribute{
				Optional:   true,
				Validators: []validator.String{stringvalidator.OneOf(session.WaitableStatuses...)},
				Description: "Wait after asking until the session is at least approved, configured or established. " +
					"rejected or unestablished end the wait with an error (the session is then tainted, and replaced on the next apply).",
			},
			"wait_timeout": schema.StringAttribute{
				Optional: true, Validators: []validator.String{durationValidator{}},
				Description: "How long wait_for_status waits, e.g. 30m. Default 10m.",
			},
			"status": schema.StringAttribute{
				Computed: true, PlanModifiers: keep,
				Description: "The status at the peer: pending, approved, rejected, configured, established, down or unestablished (read at every refresh).",
			},
			"request_id": schema.StringAttribute{
				Computed: true, PlanModifiers: keep,
				Description: "The peer's id of the request that asked for the session (empty after an import).",
			},
		},
	}
}

// secretVersionChanged: a version that replaces another one sends the new secret (replacement); a version
// after none (an imported session) is recorded only, so that importing a session never de-peers it.
func secretVersionChanged(_ context.Context, req planmodifier.Int64Request, resp *int64planmodifier.RequiresReplaceIfFuncResponse) {
	resp.RequiresReplace = !req.StateValue.IsNull()
}

var (
	locationPattern = regexp.MustCompile(`^pdb:(ix|fac):[1-9][0-9]{0,9}$`)
	secretPattern   = regexp.MustCompile(`^[\x21\x23-\x5b\x5d-\x7e]+$`)
)

func (r *sessionResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	return []resource.ConfigValidator{
		resourcevalidator.RequiredTogether(path.MatchRoot("local_bgp_role"), path.MatchRoot("peer_bgp_role")),
	}
}

// ValidateConfig applies the rules the server applies to the terms alone, so that `terraform validate` names
// the attribute instead of an apply failing.
func (r *sessionResource) ValidateConfig(_ context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	config, err := readRaw(req.Config.Raw)
	if err != nil || config == nil {
		return
	}
	for _, problem := range session.Check(config.knownTerms()) {
		// Malformed single values are reported by the attribute's own type or validator.
		if !problem.Syntax {
			resp.Diagnostics.AddAttributeError(path.Root(problem.Attribute), "Invalid session terms", problem.Attribute+": "+problem.Message)
		}
	}
	if config.has("session_secret_version") && config.null("session_secret") {
		resp.Diagnostics.AddAttributeWarning(path.Root("session_secret_version"), "session_secret_version without session_secret",
			"session_secret_version only matters with a session_secret: it forces the secret to be sent again")
	}
}

func (r *sessionResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	if data := configuredData(req.ProviderData, &resp.Diagnostics); data != nil {
		r.data = data
	}
}

// ModifyPlan fills what the configuration leaves to the provider (api_url, local_asn) and to the location
// (peer_type), so the plan shows the values that will be asked for. A change of an inherited value is a
// change of identity and replaces the session, as the same change written in the resource would.
func (r *sessionResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return
	}
	plan, err := readRaw(req.Plan.Raw)
	if err != nil {
		resp.Diagnostics.AddError("Cannot read the plan", err.Error())
		return
	}
	config, err := readRaw(req.Config.Raw)
	if err != nil {
		resp.Diagnostics.AddError("Cannot read the configuration", err.Error())
		return
	}
	state, err := readRaw(req.State.Raw)
	if err != nil {
		resp.Diagnostics.AddError("Cannot read the state", err.Error())
		return
	}

	// What to plan for each inherited attribute: unknown until the provider's configuration is known, the
	// provider's value, or (the provider has none any more) the state's, where the session still lives.
	var apiURL, peerType types.String
	var localASN types.Int64
	if config.null("api_url") {
		switch {
		case r.data.apiURLUnknown:
			apiURL = types.StringUnknown()
		case r.data.apiURL != "":
			apiURL = types.StringValue(r.data.apiURL)
		case state.has("api_url"):
			apiURL = types.StringValue(state.str("api_url"))
		default:
			resp.Diagnostics.AddAttributeError(path.Root("api_url"), "Missing api_url",
				"api_url: set it on the resource, or in the provider block (or "+EnvAPIURL+"): the base URL of the peer's Peering API, e.g. https://peering.example.net/v0.1")
		}
	}
	if config.null("local_asn") {
		switch {
		case r.data.localASNUnknown:
			localASN = types.Int64Unknown()
		case r.data.localASN != 0:
			localASN = types.Int64Value(r.data.localASN)
		case state.has("local_asn"):
			asn, _ := state.integer("local_asn")
			localASN = types.Int64Value(asn)
		default:
			resp.Diagnostics.AddAttributeError(path.Root("local_asn"), "Missing local_asn",
				"local_asn: set your ASN on the resource, or in the provider block (or "+EnvLocalASN+")")
		}
	}
	if config.null("peer_type") {
		if plan.unknown("location") {
			peerType = types.StringUnknown()
		} else {
			peerType = types.StringValue(session.LocationType(plan.str("location")))
		}
	}
	if resp.Diagnostics.HasError() {
		return
	}
	for _, inherited := range []struct {
		attribute string
		value     attr.Value
		planned   func() attr.Value
		inState   func() attr.Value
	}{
		{"api_url", apiURL, func() attr.Value { return rawString(plan, "api_url") }, func() attr.Value { return rawString(state, "api_url") }},
		{"local_asn", localASN, func() attr.Value { return rawInt64(plan, "local_asn") }, func() attr.Value { return rawInt64(state, "local_asn") }},
		{"peer_type", peerType, func() attr.Value { return rawString(plan, "peer_type") }, func() attr.Value { return rawString(state, "peer_type") }},
	} {
		if inherited.value == nil || inherited.value.IsNull() {
			continue // configured in the resource: the attribute's own plan modifiers decide
		}
		if !inherited.value.Equal(inherited.planned()) {
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root(inherited.attribute), inherited.value)...)
		}
		// A change of what the session inherits is a change of identity.
		if state != nil && !inherited.value.IsUnknown() && !inherited.value.Equal(inherited.inState()) {
			resp.RequiresReplace.Append(path.Root(inherited.attribute))
		}
	}
}

func rawString(o rawObject, name string) attr.Value {
	switch {
	case o.unknown(name):
		return types.StringUnknown()
	case o.null(name):
		return types.StringNull()
	}
	return types.StringValue(o.str(name))
}

func rawInt64(o rawObject, name string) attr.Value {
	switch {
	case o.unknown(name):
		return types.Int64Unknown()
	case o.null(name):
		return types.Int64Null()
	}
	n, _ := o.integer(name)
	return types.Int64Value(n)
}

func (r *sessionResource) api(m sessionModel) *peeringapi.API {
	url := m.APIURL.ValueString()
	if url == "" {
		url = r.data.apiURL
	}
	return r.data.client.At(url)
}

func (r *sessionResource) configured(diags *diag.Diagnostics) bool {
	if r.data == nil || r.data.client == nil {
		diags.AddError("Provider not configured", "the peering provider was not configured before the resource was used")
		return false
	}
	return true
}

// Create asks the peer for the session. The peer answers an existing session of the same natural key and
// terms with that session (it is adopted); one with other terms is an error naming every difference, never
// adopted; a refusal is an error on the attribute the peer names, and nothing enters the state.
func (r *sessionResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	if !r.configured(&resp.Diagnostics) {
		return
	}
	var plan sessionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	// The secret is write-only: it is in the configuration, never in the plan.
	var secret types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("session_secret"), &secret)...)
	if resp.Diagnostics.HasError() {
		return
	}
	terms := plan.terms()
	api := r.api(plan)
	wire := session.ToWire(terms, session.Secret(secret.ValueString()))
	requestID := session.RequestID(terms)
	answer, err := api.RequestSessions(ctx, peeringapi.SessionRequest{RequestID: requestID, Sessions: []session.WireSessionInput{wire}})
	if err == nil && len(answer.Sessions) == 0 && len(answer.Errors) == 0 {
		// The peer replayed an earlier request with this id whose session was removed since (de-peered, or
		// destroyed by Terraform and now asked for again): a request of its own, with a fresh id.
		tflog.Info(ctx, "earlier request with the same id was replayed without its session; asking again", map[string]any{"request_id": requestID})
		answer, err = api.RequestSessions(ctx, peeringapi.SessionRequest{RequestID: requestID + "." + randomSuffix(), Sessions: []session.WireSessionInput{wire}})
	}
	if err != nil {
		r.explainRefusal(ctx, api, terms, err, &resp.Diagnostics)
		return
	}
	if len(answer.Sessions) == 0 {
		addAPIError(&resp.Diagnostics, "The peer refused the session", &peeringapi.APIError{
			Method: "POST", URL: api.BaseURL() + "/sessions", Status: 200, Items: answer.Errors,
		})
		return
	}
	got := answer.Sessions[0]
	gotTerms, err := session.FromWire(got, terms.LocalASN)
	if err != nil {
		resp.Diagnostics.AddError("The peer answered with another session", err.Error())
		return
	}
	// A server that hands back an existing session without comparing terms must not make us adopt it.
	if differences := session.Differences(gotTerms, terms); len(differences) > 0 {
		addOtherTermsError(&resp.Diagnostics, terms.Key(), got.SessionID, differences, "")
		return
	}
	plan.setSession(got.SessionID, got.Status)
	plan.RequestID = types.StringValue(answer.RequestID)
	plan.SessionSecret = types.StringNull()
	// Saved before waiting: a session that exists must be in the state (tainted if the wait fails), or the
	// next apply would not know to de-peer it.
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	if resp.Diagnostics.HasError() || plan.WaitForStatus.ValueString() == "" {
		return
	}
	r.waitIfAsked(ctx, api, &plan, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// explainRefusal turns a failed POST into diagnostics; SESSION_EXISTS_WITH_OTHER_TERMS is explained with the
// existing session's terms beside the configuration's.
func (r *sessionResource) explainRefusal(ctx context.Context, api *peeringapi.API, asked session.Terms, err error, diags *diag.Diagnostics) {
	var apiErr *peeringapi.APIError
	if errors.As(err, &apiErr) && apiErr.Has("SESSION_EXISTS_WITH_OTHER_TERMS") {
		var message string
		for _, item := range apiErr.Items {
			if item.Code == "SESSION_EXISTS_WITH_OTHER_TERMS" {
				message = item.Text()
			}
		}
		if id := uuidPattern.FindString(message); id != "" {
			if existing, getErr := api.GetSession(ctx, id); getErr == nil {
				if has, convErr := session.FromWire(*existing, asked.LocalASN); convErr == nil {
					addOtherTermsError(diags, asked.Key(), existing.SessionID, session.Differences(has, asked), message)
					return
				}
			}
		}
	}
	addAPIError(diags, "The peer refused the session", err)
}

var uuidPattern = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)

// Read refreshes the session from the peer: its status, and its terms, so that a session changed at the peer
// shows as a difference (and a replacement) in the plan. A session the peer no longer has leaves the state,
// and the plan asks for it again.
func (r *sessionResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	if !r.configured(&resp.Diagnostics) {
		return
	}
	var state sessionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	api := r.api(state)
	got, err := api.GetSession(ctx, state.ID.ValueString())
	var apiErr *peeringapi.APIError
	if errors.As(err, &apiErr) && apiErr.NotFound() {
		tflog.Warn(ctx, "the peer no longer has the session; removing it from the state", map[string]any{"session_id": state.ID.ValueString()})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, "Cannot read the session", err)
		return
	}
	terms, err := session.FromWire(*got, state.LocalASN.ValueInt64())
	if err != nil || state.LocalASN.IsNull() {
		// Imported by id: the provider's local_asn tells the reading, unless the session is another of ours
		// (a token may hold several ASNs); then our server's reading, the REQUEST one, is taken.
		if terms, err = session.FromWire(*got, r.data.localASN); err != nil && state.LocalASN.IsNull() {
			terms, err = session.FromWire(*got, 0)
		}
	}
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("local_asn"), "The session is not ours", err.Error())
		return
	}
	if !state.PeerASN.IsNull() {
		if differences := session.Differences(terms, state.terms()); len(differences) > 0 {
			tflog.Warn(ctx, "the session's terms at the peer differ from the state", map[string]any{"differences": fmt.Sprint(differences)})
		}
	}
	state.setTerms(terms)
	state.setSession(got.SessionID, got.Status)
	if state.APIURL.IsNull() || state.APIURL.IsUnknown() {
		state.APIURL = types.StringValue(api.BaseURL())
	}
	if state.RequestID.IsNull() || state.RequestID.IsUnknown() {
		state.RequestID = types.StringValue("")
	}
	state.SessionSecret = types.StringNull()
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Update changes only what is the provider's own business (wait_for_status, wait_timeout): every term of a
// session replaces it. A newly set wait_for_status is waited for.
func (r *sessionResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	if !r.configured(&resp.Diagnostics) {
		return
	}
	var plan, state sessionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	state.WaitForStatus = plan.WaitForStatus
	state.WaitTimeout = plan.WaitTimeout
	state.SessionSecretVersion = plan.SessionSecretVersion
	state.SessionSecret = types.StringNull()
	r.waitIfAsked(ctx, r.api(state), &state, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Delete de-peers the session. A session the peer no longer has is already gone: done.
func (r *sessionResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	if !r.configured(&resp.Diagnostics) {
		return
	}
	var state sessionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	err := r.api(state).DeleteSession(ctx, state.ID.ValueString())
	var apiErr *peeringapi.APIError
	if errors.As(err, &apiErr) && apiErr.NotFound() {
		return
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, "Cannot de-peer the session", err)
	}
}

// ImportState takes a session id or a natural key (see session.ParseImportID), optionally after an API URL;
// Read then fills every attribute from the peer.
func (r *sessionResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if !r.configured(&resp.Diagnostics) {
		return
	}
	id, err := session.ParseImportID(req.ID)
	if err != nil {
		resp.Diagnostics.AddError("Invalid import id", err.Error())
		return
	}
	apiURL := id.APIURL
	if apiURL == "" {
		apiURL = r.data.apiURL
	}
	if apiURL == "" {
		resp.Diagnostics.AddError("No API to import from",
			"set api_url in the provider block (or "+EnvAPIURL+"), or give it in the import id: <api_url>,<session_id>")
		return
	}
	if problem := checkAPIURL(apiURL); problem != "" {
		resp.Diagnostics.AddError("Invalid import id", problem)
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("api_url"), apiURL)...)
	sessionID := id.SessionID
	if sessionID == "" {
		if r.data.localASN == 0 {
			resp.Diagnostics.AddError("Import by natural key needs local_asn",
				"the natural key is your ASN, the location and both addresses: set local_asn in the provider block (or "+EnvLocalASN+"), or import by session id")
			return
		}
		key := session.Key{LocalASN: r.data.localASN, Location: id.Location, LocalIP: id.LocalIP, PeerIP: id.PeerIP}
		found, _, err := r.data.client.At(apiURL).FindSession(ctx, key)
		if err != nil {
			addAPIError(&resp.Diagnostics, "Cannot list the sessions to import", err)
			return
		}
		if found == nil {
			resp.Diagnostics.AddError("No such session to import",
				fmt.Sprintf("the peer at %s has no session of %s", apiURL, key))
			return
		}
		sessionID = found.SessionID
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("local_asn"), r.data.localASN)...)
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), sessionID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("session_id"), sessionID)...)
}

// waitIfAsked polls the session until wait_for_status is reached. A status that will never get there
// (rejected, unestablished), a session removed meanwhile, or the timeout is an error; the model keeps the last
// status seen.
func (r *sessionResource) waitIfAsked(ctx context.Context, api *peeringapi.API, m *sessionModel, diags *diag.Diagnostics) {
	want := m.WaitForStatus.ValueString()
	if want == "" {
		return
	}
	timeout := DefaultWaitTimeout
	if text := m.WaitTimeout.ValueString(); text != "" {
		timeout, _ = time.ParseDuration(text)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	interval := firstPoll
	id := m.SessionID.ValueString()
	for {
		status := m.Status.ValueString()
		if session.Reached(status, want) {
			return
		}
		if session.Failed(status) {
			diags.AddError("The session will not become "+want,
				fmt.Sprintf("session %s is %s at the peer, so it will not become %s. It is kept in the state as tainted: the next apply replaces it (asks again).", id, status, want))
			return
		}
		timer := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			timer.Stop()
			diags.AddError("Timed out waiting for the session",
				fmt.Sprintf("session %s is still %s after %s; wait_for_status is %s. It is kept in the state as tainted: the next apply replaces it. Raise wait_timeout if the peer is slow.", id, status, timeout, want))
			return
		case <-timer.C:
		}
		interval = min(interval*3/2, maxPoll)
		got, err := api.GetSession(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				continue
			}
			var apiErr *peeringapi.APIError
			if errors.As(err, &apiErr) && apiErr.NotFound() {
				diags.AddError("The session was removed while waiting", fmt.Sprintf("the peer no longer has session %s (it was %s)", id, status))
				return
			}
			addAPIError(diags, "Cannot read the session while waiting", err)
			return
		}
		m.Status = types.StringValue(session.Status(got.Status))
	}
}

func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
