package provider

import (
	"math/big"

	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/peering-operator/peering-operator/provider/terraform-provider-peering/internal/session"
)

// rawObject is a resource's configuration, plan or state read straight from Terraform's value. ValidateConfig and
// ModifyPlan run for every session of every plan, and the framework's model decoding (reflection that compiles
// a regular expression per struct field on every call) was a tenth of the provider's CPU in a 1,000-session
// apply; these reads cost next to nothing. Nil for a null object (a resource being created has no state).
type rawObject map[string]tftypes.Value

func readRaw(v tftypes.Value) (rawObject, error) {
	if v.IsNull() || !v.IsKnown() {
		return nil, nil
	}
	out := map[string]tftypes.Value{}
	if err := v.As(&out); err != nil {
		return nil, err
	}
	return out, nil
}

// unknown: the value is known only after another resource's apply.
func (o rawObject) unknown(name string) bool {
	v, ok := o[name]
	return ok && !v.IsKnown()
}

// null: not given (or a null object).
func (o rawObject) null(name string) bool {
	v, ok := o[name]
	return !ok || (v.IsKnown() && v.IsNull())
}

func (o rawObject) has(name string) bool { return !o.null(name) && !o.unknown(name) }

func (o rawObject) str(name string) string {
	var s string
	if o.has(name) {
		_ = o[name].As(&s)
	}
	return s
}

func (o rawObject) integer(name string) (int64, bool) {
	if !o.has(name) {
		return 0, false
	}
	var n big.Float
	if err := o[name].As(&n); err != nil {
		return 0, false
	}
	i, _ := n.Int64()
	return i, true
}

func (o rawObject) boolean(name string, fallback bool) bool {
	b := fallback
	if o.has(name) {
		_ = o[name].As(&b)
	}
	return b
}

// terms of a configuration, with the values not known yet left out (the server judges them at apply time).
func (o rawObject) knownTerms() session.Terms {
	t := session.Terms{
		Location: o.str("location"), PeerType: o.str("peer_type"),
		LocalIP: o.str("local_ip"), PeerIP: o.str("peer_ip"),
		LocalMonitoringSession: o.boolean("local_monitoring_session", session.DefaultMonitoringSession),
		PeerMonitoringSession:  o.boolean("peer_monitoring_session", session.DefaultMonitoringSession),
	}
	if o.unknown("location") || o.unknown("peer_type") {
		t.Location, t.PeerType = "", ""
	}
	if o.unknown("local_ip") || o.unknown("peer_ip") {
		t.LocalIP, t.PeerIP = "", ""
	}
	if local, ok := o.integer("local_bgp_role"); ok {
		if peer, ok := o.integer("peer_bgp_role"); ok {
			t.LocalRole, t.PeerRole = &local, &peer
		}
	}
	if o.unknown("local_monitoring_session") || o.unknown("peer_monitoring_session") {
		t.LocalMonitoringSession, t.PeerMonitoringSession = false, false
	}
	return t
}
