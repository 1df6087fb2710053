package provider

import (
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/peering-operator/peering-operator/provider/terraform-provider-peering/internal/iptype"
	"github.com/peering-operator/peering-operator/provider/terraform-provider-peering/internal/session"
)

// sessionTermsModel is the terms of a session as the resource and the data source both hold them.
type sessionTermsModel struct {
	LocalASN               types.Int64    `tfsdk:"local_asn"`
	PeerASN                types.Int64    `tfsdk:"peer_asn"`
	Location               types.String   `tfsdk:"location"`
	LocalIP                iptype.Address `tfsdk:"local_ip"`
	PeerIP                 iptype.Address `tfsdk:"peer_ip"`
	PeerType               types.String   `tfsdk:"peer_type"`
	LocalBGPRole           types.Int64    `tfsdk:"local_bgp_role"`
	PeerBGPRole            types.Int64    `tfsdk:"peer_bgp_role"`
	LocalInsertASN         types.Bool     `tfsdk:"local_insert_asn"`
	PeerInsertASN          types.Bool     `tfsdk:"peer_insert_asn"`
	LocalMonitoringSession types.Bool     `tfsdk:"local_monitoring_session"`
	PeerMonitoringSession  types.Bool     `tfsdk:"peer_monitoring_session"`
}

// sessionModel is the peering_session resource's state. `local_*` is us, `peer_*` the network whose API is
// called; the wire's reading is applied in package session, nowhere else.
type sessionModel struct {
	ID        types.String `tfsdk:"id"`
	SessionID types.String `tfsdk:"session_id"`
	APIURL    types.String `tfsdk:"api_url"`
	sessionTermsModel
	SessionSecret        types.String `tfsdk:"session_secret"`
	SessionSecretVersion types.Int64  `tfsdk:"session_secret_version"`
	WaitForStatus        types.String `tfsdk:"wait_for_status"`
	WaitTimeout          types.String `tfsdk:"wait_timeout"`
	Status               types.String `tfsdk:"status"`
	RequestID            types.String `tfsdk:"request_id"`
}

// terms of the model; unknown or null values read as their zero (callers check what they need first).
func (m sessionTermsModel) terms() session.Terms {
	t := session.Terms{
		LocalASN:               m.LocalASN.ValueInt64(),
		PeerASN:                m.PeerASN.ValueInt64(),
		Location:               m.Location.ValueString(),
		LocalIP:                m.LocalIP.ValueString(),
		PeerIP:                 m.PeerIP.ValueString(),
		PeerType:               m.PeerType.ValueString(),
		LocalInsertASN:         boolOr(m.LocalInsertASN, session.DefaultInsertASN),
		PeerInsertASN:          boolOr(m.PeerInsertASN, session.DefaultInsertASN),
		LocalMonitoringSession: boolOr(m.LocalMonitoringSession, session.DefaultMonitoringSession),
		PeerMonitoringSession:  boolOr(m.PeerMonitoringSession, session.DefaultMonitoringSession),
	}
	if !m.LocalBGPRole.IsNull() && !m.LocalBGPRole.IsUnknown() {
		role := m.LocalBGPRole.ValueInt64()
		t.LocalRole = &role
	}
	if !m.PeerBGPRole.IsNull() && !m.PeerBGPRole.IsUnknown() {
		role := m.PeerBGPRole.ValueInt64()
		t.PeerRole = &role
	}
	return t
}

// setTerms writes the terms a server reported into the model. An address keeps the spelling the model has
// when it names the same address, so a configuration in another spelling shows no difference.
func (m *sessionTermsModel) setTerms(t session.Terms) {
	m.LocalASN = types.Int64Value(t.LocalASN)
	m.PeerASN = types.Int64Value(t.PeerASN)
	m.Location = types.StringValue(t.Location)
	m.LocalIP = sameOrNew(m.LocalIP, t.LocalIP)
	m.PeerIP = sameOrNew(m.PeerIP, t.PeerIP)
	m.PeerType = types.StringValue(t.EffectivePeerType())
	m.LocalBGPRole = types.Int64PointerValue(t.LocalRole)
	m.PeerBGPRole = types.Int64PointerValue(t.PeerRole)
	m.LocalInsertASN = types.BoolValue(t.LocalInsertASN)
	m.PeerInsertASN = types.BoolValue(t.PeerInsertASN)
	m.LocalMonitoringSession = types.BoolValue(t.LocalMonitoringSession)
	m.PeerMonitoringSession = types.BoolValue(t.PeerMonitoringSession)
}

// setSession writes what identifies a session and where it stands.
func (m *sessionModel) setSession(id, status string) {
	// Ids are read case-insensitively (RFC 9562 §4) and kept as the state has them.
	if !strings.EqualFold(m.SessionID.ValueString(), id) {
		m.SessionID = types.StringValue(strings.ToLower(id))
	}
	m.ID = m.SessionID
	m.Status = types.StringValue(session.Status(status))
}

func sameOrNew(have iptype.Address, reported string) iptype.Address {
	if !have.IsNull() && !have.IsUnknown() && session.SameAddress(have.ValueString(), reported) {
		return have
	}
	return iptype.NewAddress(reported)
}

func boolOr(v types.Bool, fallback bool) bool {
	if v.IsNull() || v.IsUnknown() {
		return fallback
	}
	return v.ValueBool()
}
