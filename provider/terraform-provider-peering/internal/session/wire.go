package session

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Secret is a session's MD5/TCP-AO secret on its way to the peer. It prints as a placeholder wherever it is
// formatted (logs, errors, %v of a struct holding it) and is written out only by the JSON encoder.
type Secret string

func (Secret) String() string   { return "(sensitive)" }
func (Secret) GoString() string { return "(sensitive)" }

// MarshalJSON writes the secret itself: the request body is the one place it belongs.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(string(s)) }

// WireLocation is the wire's `location`: `{id, type}`.
type WireLocation struct {
	ID   string `json:"id"`
	Type string `json:"type,omitempty"`
}

// UnmarshalJSON also takes the bare id string of the older spec (docs/api.md §4), whose type follows from it.
func (l *WireLocation) UnmarshalJSON(data []byte) error {
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte(`"`)) {
		var id string
		if err := json.Unmarshal(data, &id); err != nil {
			return err
		}
		*l = WireLocation{ID: id, Type: LocationType(id)}
		return nil
	}
	type plain WireLocation
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	*l = WireLocation(p)
	return nil
}

// WireSessionInput is one session of a POST /sessions body, in the REQUEST reading (local_* = the server).
type WireSessionInput struct {
	LocalASN               int64        `json:"local_asn"`
	LocalIP                string       `json:"local_ip"`
	PeerASN                int64        `json:"peer_asn"`
	PeerIP                 string       `json:"peer_ip"`
	LocalBGPRole           *int64       `json:"local_bgp_role,omitempty"`
	PeerBGPRole            *int64       `json:"peer_bgp_role,omitempty"`
	LocalInsertASN         bool         `json:"local_insert_asn"`
	PeerInsertASN          bool         `json:"peer_insert_asn"`
	LocalMonitoringSession bool         `json:"local_monitoring_session"`
	PeerMonitoringSession  bool         `json:"peer_monitoring_session"`
	PeerType               string       `json:"peer_type,omitempty"`
	SessionSecret          Secret       `json:"session_secret,omitempty"`
	Location               WireLocation `json:"location"`
}

// WireSession is a session as a server answers it. The options are pointers because another implementation
// may leave them out, and then the draft's defaults apply.
type WireSession struct {
	SessionID              string       `json:"session_id"`
	LocalASN               int64        `json:"local_asn"`
	LocalIP                string       `json:"local_ip"`
	PeerASN                int64        `json:"peer_asn"`
	PeerIP                 string       `json:"peer_ip"`
	LocalBGPRole           *int64       `json:"local_bgp_role,omitempty"`
	PeerBGPRole            *int64       `json:"peer_bgp_role,omitempty"`
	LocalInsertASN         *bool        `json:"local_insert_asn,omitempty"`
	PeerInsertASN          *bool        `json:"peer_insert_asn,omitempty"`
	LocalMonitoringSession *bool        `json:"local_monitoring_session,omitempty"`
	PeerMonitoringSession  *bool        `json:"peer_monitoring_session,omitempty"`
	PeerType               string       `json:"peer_type,omitempty"`
	Location               WireLocation `json:"location"`
	Status                 string       `json:"status"`
}

// ToWire writes terms (our reading) as a request in the REQUEST reading: the server's side, the peer, is
// `local_*`; ours is `peer_*`. Every option is written out, so the server judges exactly what the plan showed.
func ToWire(t Terms, secret Secret) WireSessionInput {
	return WireSessionInput{
		LocalASN:               t.PeerASN,
		LocalIP:                CanonicalAddress(t.PeerIP),
		PeerASN:                t.LocalASN,
		PeerIP:                 CanonicalAddress(t.LocalIP),
		LocalBGPRole:           t.PeerRole,
		PeerBGPRole:            t.LocalRole,
		LocalInsertASN:         t.PeerInsertASN,
		PeerInsertASN:          t.LocalInsertASN,
		LocalMonitoringSession: t.PeerMonitoringSession,
		PeerMonitoringSession:  t.LocalMonitoringSession,
		PeerType:               t.EffectivePeerType(),
		SessionSecret:          secret,
		Location:               WireLocation{ID: t.Location, Type: LocationType(t.Location)},
	}
}

// FromWire reads a session a server answered into our reading. Our server answers in the reading the request
// used (REQUEST, since we write it) and lists in the REQUEST reading; another implementation may answer in
// the DATA TYPES reading (local_* = the initiator), so the side carrying our ASN decides. ourASN 0 means "not
// known" (an import before the provider's local_asn is set): the REQUEST reading is assumed.
func FromWire(w WireSession, ourASN int64) (Terms, error) {
	flipped := false
	switch {
	case ourASN == 0 || w.PeerASN == ourASN:
	case w.LocalASN == ourASN:
		flipped = true
	default:
		return Terms{}, fmt.Errorf("session %s is between AS%d and AS%d; neither is our ASN (local_asn %d)", w.SessionID, w.LocalASN, w.PeerASN, ourASN)
	}
	option := func(value *bool, fallback bool) bool {
		if value == nil {
			return fallback
		}
		return *value
	}
	server := Terms{
		LocalASN:               w.PeerASN,
		PeerASN:                w.LocalASN,
		Location:               w.Location.ID,
		LocalIP:                w.PeerIP,
		PeerIP:                 w.LocalIP,
		PeerType:               w.PeerType,
		LocalRole:              w.PeerBGPRole,
		PeerRole:               w.LocalBGPRole,
		LocalInsertASN:         option(w.PeerInsertASN, DefaultInsertASN),
		PeerInsertASN:          option(w.LocalInsertASN, DefaultInsertASN),
		LocalMonitoringSession: option(w.PeerMonitoringSession, DefaultMonitoringSession),
		PeerMonitoringSession:  option(w.LocalMonitoringSession, DefaultMonitoringSession),
	}
	if flipped {
		server = server.swapped()
	}
	if server.PeerType == "" {
		server.PeerType = LocationType(server.Location)
	}
	server.LocalIP = CanonicalAddress(server.LocalIP)
	server.PeerIP = CanonicalAddress(server.PeerIP)
	return server, nil
}

func (t Terms) swapped() Terms {
	return Terms{
		LocalASN:               t.PeerASN,
		PeerASN:                t.LocalASN,
		Location:               t.Location,
		LocalIP:                t.PeerIP,
		PeerIP:                 t.LocalIP,
		PeerType:               t.PeerType,
		LocalRole:              t.PeerRole,
		PeerRole:               t.LocalRole,
		LocalInsertASN:         t.PeerInsertASN,
		PeerInsertASN:          t.LocalInsertASN,
		LocalMonitoringSession: t.PeerMonitoringSession,
		PeerMonitoringSession:  t.LocalMonitoringSession,
	}
}

// AttributeOfWireField names, in our reading, the attribute a wire error item is about: the server names
// fields in the REQUEST reading we wrote (`sessions[0].local_ip` is the peer's address, our `peer_ip`). ok is
// false for names that are no session attribute (`request`, `sessions`, `authorization`).
func AttributeOfWireField(name string) (attribute string, ok bool) {
	field := name
	if strings.HasPrefix(field, "sessions[") {
		end := strings.Index(field, "]")
		if end < 0 || end+1 >= len(field) || field[end+1] != '.' {
			return "", false
		}
		field = field[end+2:]
	}
	// `location.id` and other sub-fields belong to their attribute.
	if dot := strings.IndexAny(field, ".["); dot >= 0 {
		field = field[:dot]
	}
	switch field {
	case "md5", "session_secret":
		return "session_secret", true
	case "peer_type", "location":
		return field, true
	}
	for _, pair := range [][2]string{{"local_", "peer_"}, {"peer_", "local_"}} {
		if rest, found := strings.CutPrefix(field, pair[0]); found {
			attribute = pair[1] + rest
			switch attribute {
			case "local_asn", "peer_asn", "local_ip", "peer_ip", "local_bgp_role", "peer_bgp_role",
				"local_insert_asn", "peer_insert_asn", "local_monitoring_session", "peer_monitoring_session":
				return attribute, true
			}
		}
	}
	return "", false
}
