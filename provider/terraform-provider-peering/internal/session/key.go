package session

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// Key is a session's natural key at one Peering API (docs/api.md §4): the caller's ASN (ours), the location
// and both addresses, canonical. The server returns the existing session for a key it already has.
type Key struct {
	LocalASN int64
	Location string
	LocalIP  string
	PeerIP   string
}

// Key of the terms.
func (t Terms) Key() Key {
	return Key{LocalASN: t.LocalASN, Location: t.Location, LocalIP: CanonicalAddress(t.LocalIP), PeerIP: CanonicalAddress(t.PeerIP)}
}

func (k Key) String() string {
	return fmt.Sprintf("AS%d at %s, local_ip %s, peer_ip %s", k.LocalASN, k.Location, k.LocalIP, k.PeerIP)
}

// Of reports whether the terms have this key (LocalASN 0 in the key matches any ASN).
func (k Key) Of(t Terms) bool {
	return (k.LocalASN == 0 || k.LocalASN == t.LocalASN) && k.Location == t.Location &&
		SameAddress(k.LocalIP, t.LocalIP) && SameAddress(k.PeerIP, t.PeerIP)
}

// RequestID is the client request id of a create (docs/api.md §6): derived from the natural key and the terms,
// so a POST retried after a lost answer (the same call, or the next apply after a failed one) is answered
// with what the first one recorded instead of being judged again. Only characters the API accepts
// ([A-Za-z0-9._~:-], at most 128).
func RequestID(t Terms) string {
	k := t.Key()
	roles := func(r *int64) string {
		if r == nil {
			return "-"
		}
		return fmt.Sprint(*r)
	}
	canonical := fmt.Sprintf("%d|%d|%s|%s|%s|%s|%s|%s|%t|%t|%t|%t",
		k.LocalASN, t.PeerASN, k.Location, k.LocalIP, k.PeerIP, t.EffectivePeerType(), roles(t.LocalRole), roles(t.PeerRole),
		t.LocalInsertASN, t.PeerInsertASN, t.LocalMonitoringSession, t.PeerMonitoringSession)
	sum := sha256.Sum256([]byte(canonical))
	return "tf-" + hex.EncodeToString(sum[:16])
}

var sessionIDPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// ValidSessionID reports whether id is a session id (a UUID, any case: RFC 9562 §4).
func ValidSessionID(id string) bool { return sessionIDPattern.MatchString(id) }

// ImportID is what `terraform import` was given: a session id, or a natural key, optionally after the API URL
// of a resource that does not use the provider's.
type ImportID struct {
	// APIURL is empty when the provider's api_url applies.
	APIURL string
	// SessionID, in lower case, when importing by id.
	SessionID string
	// Location, LocalIP and PeerIP when importing by natural key (our reading: local_ip is ours).
	Location string
	LocalIP  string
	PeerIP   string
}

// ImportIDFormats is the help text of every import error.
const ImportIDFormats = "expected <session_id>, <location>,<local_ip>,<peer_ip>, or either of them after \"<api_url>,\" " +
	"(e.g. 2d0c4f5e-8f4b-4c8e-9d7a-1b2c3d4e5f60 or pdb:ix:26,80.249.211.140,80.249.208.247)"

// ParseImportID reads an import id:
//
//	<session_id>
//	<location>,<local_ip>,<peer_ip>
//	<api_url>,<session_id>
//	<api_url>,<location>,<local_ip>,<peer_ip>
func ParseImportID(text string) (ImportID, error) {
	parts := strings.Split(text, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	var id ImportID
	if len(parts) > 1 && (strings.HasPrefix(parts[0], "http://") || strings.HasPrefix(parts[0], "https://")) {
		id.APIURL = strings.TrimRight(parts[0], "/")
		parts = parts[1:]
	}
	switch len(parts) {
	case 1:
		if !ValidSessionID(parts[0]) {
			return ImportID{}, fmt.Errorf("%q is not a session id (a UUID); %s", parts[0], ImportIDFormats)
		}
		id.SessionID = strings.ToLower(parts[0])
	case 3:
		if !ValidLocation(parts[0]) {
			return ImportID{}, fmt.Errorf("location %q %s; %s", parts[0], LocationRule, ImportIDFormats)
		}
		for _, end := range []struct{ attribute, text string }{{"local_ip", parts[1]}, {"peer_ip", parts[2]}} {
			if _, err := ParseAddress(end.text); err != nil {
				return ImportID{}, fmt.Errorf("%s: %v; %s", end.attribute, err, ImportIDFormats)
			}
		}
		id.Location, id.LocalIP, id.PeerIP = parts[0], CanonicalAddress(parts[1]), CanonicalAddress(parts[2])
	default:
		return ImportID{}, fmt.Errorf("%q has %d comma-separated parts; %s", text, len(parts), ImportIDFormats)
	}
	return id, nil
}
