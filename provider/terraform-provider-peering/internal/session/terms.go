// Package session holds the provider's one description of a BGP session and the one mapping between it and
// the Peering API's wire form (docs/api.md §3-§5): pure functions over data, tested without Terraform or HTTP.
//
// Reading: in Terraform, as in the CDKTF constructs (provider/src/session-props.ts), `local_*` is US, the
// network running Terraform and initiating the request, and `peer_*` is the network whose Peering API we call.
// On the wire we write the draft's REQUEST reading, which our server also answers every GET in: `local_*` is
// the receiving server (the peer), `peer_*` the initiator (us). So every side is swapped exactly once, here.
package session

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

// Terms of one session in our reading: Local is us, Peer the network whose API we call.
type Terms struct {
	LocalASN int64
	PeerASN  int64
	// Location id, pdb:ix:<id> (public) or pdb:fac:<id> (private).
	Location string
	LocalIP  string
	PeerIP   string
	// PeerType is "public" or "private"; empty means "as the location says".
	PeerType string
	// RFC 9234 roles: 0 Provider, 1 Route Server, 2 RS Client, 3 Customer, 4 Peer; nil when not given.
	LocalRole              *int64
	PeerRole               *int64
	LocalInsertASN         bool
	PeerInsertASN          bool
	LocalMonitoringSession bool
	PeerMonitoringSession  bool
}

// Defaults of the draft's options (docs/api.md §4): insert-ASN on, no monitoring.
const (
	DefaultInsertASN         = true
	DefaultMonitoringSession = false
)

var locationPattern = regexp.MustCompile(`^pdb:(ix|fac):([1-9][0-9]{0,9})$`)

// LocationRule is how a location id is written, for error messages.
const LocationRule = "must be pdb:ix:<PeeringDB ix id> or pdb:fac:<PeeringDB facility id>, e.g. pdb:ix:26"

// ValidLocation reports whether id is a location id the API takes.
func ValidLocation(id string) bool { return locationPattern.MatchString(id) }

// LocationType is "public" for pdb:ix:*, "private" for pdb:fac:* (docs/api.md §4).
func LocationType(id string) string {
	if strings.HasPrefix(id, "pdb:fac:") {
		return "private"
	}
	return "public"
}

// EffectivePeerType is the peer type the server will record: the one given, else the location's.
func (t Terms) EffectivePeerType() string {
	if t.PeerType != "" {
		return t.PeerType
	}
	return LocationType(t.Location)
}

// RoleNames are RFC 9234's names of the role numbers, for messages.
var RoleNames = map[int64]string{0: "provider", 1: "route server", 2: "route server client", 3: "customer", 4: "peer"}

// RolesAreCorrect is RFC 9234 §4.2 role correctness of our role against the peer's.
func RolesAreCorrect(local, peer int64) bool {
	switch local {
	case 0:
		return peer == 3
	case 3:
		return peer == 0
	case 1:
		return peer == 2
	case 2:
		return peer == 1
	case 4:
		return peer == 4
	}
	return false
}

// ParseAddress reads one address as a session endpoint: a plain IPv4 or IPv6 address (no prefix length, no
// zone), returned in canonical text (RFC 5952 for IPv6), so that two spellings of one address compare equal.
func ParseAddress(text string) (netip.Addr, error) {
	if strings.Contains(text, "/") {
		return netip.Addr{}, fmt.Errorf("%q has a prefix length; give the address alone, e.g. %s", text, strings.SplitN(text, "/", 2)[0])
	}
	addr, err := netip.ParseAddr(text)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%q is not an IPv4 or IPv6 address", text)
	}
	if addr.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%q has a zone; a session endpoint has none", text)
	}
	return addr.Unmap(), nil
}

// CanonicalAddress is the canonical text of an address, or the text itself when it is none (left to the
// validator that reports it).
func CanonicalAddress(text string) string {
	addr, err := ParseAddress(text)
	if err != nil {
		return text
	}
	return addr.String()
}

// SameAddress reports whether two texts name one address.
func SameAddress(a, b string) bool { return CanonicalAddress(a) == CanonicalAddress(b) }

// UnusableAddressReason says why an address can never be a BGP endpoint (docs/api.md, "How a request is
// judged"), or "" when it can be one. The server refuses these with UNUSABLE_ADDRESS; saying so at plan time
// spares an apply that cannot succeed. Loopback is left to the server: a lab's policy may admit it
// (policy.allowLoopbackEndpoints).
func UnusableAddressReason(addr netip.Addr) string {
	switch {
	case addr.IsUnspecified():
		return "is the unspecified address"
	case addr.IsMulticast():
		return "is a multicast address"
	case addr.IsLinkLocalUnicast():
		return "is a link-local address"
	case addr.Is4() && addr.As4()[0] >= 240:
		return "is in 240.0.0.0/4, which is reserved"
	}
	return ""
}

// Problem is one rule a set of terms breaks, on the attribute it names (our reading).
type Problem struct {
	Attribute string
	Message   string
	// Syntax marks a value that is malformed on its own (what a schema validator of the attribute reports),
	// as opposed to terms that are well-formed but do not fit together or can never work.
	Syntax bool
}

// Check applies the rules the server applies to the terms alone (shape, not policy: docs/api.md §4), so that
// `terraform validate` and `plan` report them with the attribute's name instead of an apply failing. Values the
// configuration does not know yet are skipped by the caller.
func Check(t Terms) []Problem {
	var problems []Problem
	if t.Location != "" && !ValidLocation(t.Location) {
		problems = append(problems, Problem{Attribute: "location", Message: LocationRule, Syntax: true})
	}
	local, localErr := ParseAddress(t.LocalIP)
	peer, peerErr := ParseAddress(t.PeerIP)
	for _, end := range []struct {
		attribute string
		addr      netip.Addr
		err       error
		text      string
	}{{"local_ip", local, localErr, t.LocalIP}, {"peer_ip", peer, peerErr, t.PeerIP}} {
		if end.text == "" {
			continue
		}
		if end.err != nil {
			problems = append(problems, Problem{Attribute: end.attribute, Message: end.err.Error(), Syntax: true})
		} else if reason := UnusableAddressReason(end.addr); reason != "" {
			problems = append(problems, Problem{Attribute: end.attribute, Message: fmt.Sprintf("%s %s and can never be a BGP endpoint", end.text, reason)})
		}
	}
	if t.LocalIP != "" && localErr == nil && t.PeerIP != "" && peerErr == nil {
		if local.Is4() != peer.Is4() {
			problems = append(problems, Problem{Attribute: "peer_ip", Message: fmt.Sprintf("%s and local_ip %s are of different address families; a session has one family", t.PeerIP, t.LocalIP)})
		} else if local == peer {
			problems = append(problems, Problem{Attribute: "peer_ip", Message: fmt.Sprintf("is the same address as local_ip (%s); the two ends of a session differ", t.LocalIP)})
		}
	}
	if t.LocalRole != nil && t.PeerRole != nil && !RolesAreCorrect(*t.LocalRole, *t.PeerRole) {
		problems = append(problems, Problem{Attribute: "peer_bgp_role", Message: fmt.Sprintf(
			"%d (%s) is not RFC 9234 role-correct with local_bgp_role %d (%s); correct pairs are provider/customer, route server/route server client and peer/peer",
			*t.PeerRole, RoleNames[*t.PeerRole], *t.LocalRole, RoleNames[*t.LocalRole])})
	}
	if t.LocalMonitoringSession && t.PeerMonitoringSession {
		problems = append(problems, Problem{Attribute: "peer_monitoring_session", Message: "cannot be true together with local_monitoring_session: one side of a session must carry routes"})
	}
	if t.PeerType != "" && t.Location != "" && ValidLocation(t.Location) && t.PeerType != LocationType(t.Location) {
		problems = append(problems, Problem{Attribute: "peer_type", Message: fmt.Sprintf("%q disagrees with location %s, which is %s", t.PeerType, t.Location, LocationType(t.Location))})
	}
	return problems
}
