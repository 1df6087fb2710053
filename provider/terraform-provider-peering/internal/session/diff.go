package session

import "fmt"

// Difference is one attribute on which two sets of terms disagree, with both values as a person reads them.
type Difference struct {
	Attribute string
	Has       string
	Asked     string
}

func (d Difference) String() string {
	return fmt.Sprintf("%s (the peer has %s, the configuration asks for %s)", d.Attribute, d.Has, d.Asked)
}

// Differences lists, in our reading and in schema order, every attribute on which the terms a session `has`
// at the peer differ from the terms `asked` for: identity and options alike. Addresses compare by value, so
// 2001:DB8::1 and 2001:db8::1 are one address; the peer type compares as the server records it.
func Differences(has, asked Terms) []Difference {
	var out []Difference
	add := func(attribute, h, a string) {
		if h != a {
			out = append(out, Difference{attribute, h, a})
		}
	}
	add("local_asn", fmt.Sprint(has.LocalASN), fmt.Sprint(asked.LocalASN))
	add("peer_asn", fmt.Sprint(has.PeerASN), fmt.Sprint(asked.PeerASN))
	add("location", has.Location, asked.Location)
	add("local_ip", CanonicalAddress(has.LocalIP), CanonicalAddress(asked.LocalIP))
	add("peer_ip", CanonicalAddress(has.PeerIP), CanonicalAddress(asked.PeerIP))
	add("peer_type", has.EffectivePeerType(), asked.EffectivePeerType())
	add("local_bgp_role", roleText(has.LocalRole), roleText(asked.LocalRole))
	add("peer_bgp_role", roleText(has.PeerRole), roleText(asked.PeerRole))
	add("local_insert_asn", fmt.Sprint(has.LocalInsertASN), fmt.Sprint(asked.LocalInsertASN))
	add("peer_insert_asn", fmt.Sprint(has.PeerInsertASN), fmt.Sprint(asked.PeerInsertASN))
	add("local_monitoring_session", fmt.Sprint(has.LocalMonitoringSession), fmt.Sprint(asked.LocalMonitoringSession))
	add("peer_monitoring_session", fmt.Sprint(has.PeerMonitoringSession), fmt.Sprint(asked.PeerMonitoringSession))
	return out
}

func roleText(r *int64) string {
	if r == nil {
		return "no role"
	}
	if name, ok := RoleNames[*r]; ok {
		return fmt.Sprintf("%d (%s)", *r, name)
	}
	return fmt.Sprint(*r)
}
