package session

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

func role(r int64) *int64 { return &r }

// cloudflareToGoogle is Cloudflare's IPv4 session with Google at AMS-IX, in Cloudflare's (our) reading.
func cloudflareToGoogle() Terms {
	return Terms{
		LocalASN: 13335, PeerASN: 15169, Location: "pdb:ix:26",
		LocalIP: "80.249.211.140", PeerIP: "80.249.208.247",
		LocalInsertASN: true, PeerInsertASN: true,
	}
}

func TestToWireWritesTheRequestReading(t *testing.T) {
	terms := cloudflareToGoogle()
	terms.LocalRole, terms.PeerRole = role(3), role(0)
	terms.LocalInsertASN = false
	body, err := json.Marshal(ToWire(terms, "k3y"))
	if err != nil {
		t.Fatal(err)
	}
	var wire map[string]any
	if err := json.Unmarshal(body, &wire); err != nil {
		t.Fatal(err)
	}
	// The server (Google) is local_*, we are peer_*.
	want := map[string]any{
		"local_asn": 15169.0, "local_ip": "80.249.208.247", "peer_asn": 13335.0, "peer_ip": "80.249.211.140",
		"local_bgp_role": 0.0, "peer_bgp_role": 3.0, "local_insert_asn": true, "peer_insert_asn": false,
		"local_monitoring_session": false, "peer_monitoring_session": false, "peer_type": "public",
		"session_secret": "k3y", "location": map[string]any{"id": "pdb:ix:26", "type": "public"},
	}
	for key, value := range want {
		got, _ := json.Marshal(wire[key])
		expected, _ := json.Marshal(value)
		if string(got) != string(expected) {
			t.Errorf("%s = %s, want %s", key, got, expected)
		}
	}
	if len(wire) != len(want) {
		t.Errorf("wire has %d fields, want %d: %v", len(wire), len(want), wire)
	}
}

func TestToWireLeavesOutAbsentRolesAndSecret(t *testing.T) {
	body, _ := json.Marshal(ToWire(cloudflareToGoogle(), ""))
	for _, field := range []string{"local_bgp_role", "peer_bgp_role", "session_secret", "md5"} {
		if strings.Contains(string(body), field) {
			t.Errorf("%s sent although not given: %s", field, body)
		}
	}
}

func TestSecretNeverPrints(t *testing.T) {
	input := ToWire(cloudflareToGoogle(), "very-secret")
	for _, text := range []string{
		fmt.Sprintf("%v", input), fmt.Sprintf("%+v", input), fmt.Sprintf("%#v", input), fmt.Sprintf("%s", input.SessionSecret),
	} {
		if strings.Contains(text, "very-secret") {
			t.Errorf("the secret printed: %s", text)
		}
	}
}

func TestFromWireReadsEitherReading(t *testing.T) {
	answered := WireSession{
		SessionID: "076e6cc7-49e4-4ad9-809c-a49934b8a484", LocalASN: 15169, LocalIP: "80.249.208.247",
		PeerASN: 13335, PeerIP: "80.249.211.140", LocalBGPRole: role(0), PeerBGPRole: role(3),
		Location: WireLocation{ID: "pdb:ix:26", Type: "public"}, Status: "approved",
	}
	ours, err := FromWire(answered, 13335)
	if err != nil {
		t.Fatal(err)
	}
	want := cloudflareToGoogle()
	want.LocalRole, want.PeerRole, want.PeerType = role(3), role(0), "public"
	if d := Differences(ours, want); len(d) > 0 {
		t.Errorf("REQUEST reading: %v", d)
	}
	// Another implementation answering in the DATA TYPES reading (local_* = the initiator, us).
	flipped := answered
	flipped.LocalASN, flipped.PeerASN = answered.PeerASN, answered.LocalASN
	flipped.LocalIP, flipped.PeerIP = answered.PeerIP, answered.LocalIP
	flipped.LocalBGPRole, flipped.PeerBGPRole = answered.PeerBGPRole, answered.LocalBGPRole
	again, err := FromWire(flipped, 13335)
	if err != nil {
		t.Fatal(err)
	}
	if d := Differences(again, want); len(d) > 0 {
		t.Errorf("DATA TYPES reading: %v", d)
	}
	if _, err := FromWire(answered, 64500); err == nil || !strings.Contains(err.Error(), "neither is our ASN") {
		t.Errorf("a session of other networks must be refused, got %v", err)
	}
}

func TestFromWireAppliesTheDraftDefaultsAndTheBareLocation(t *testing.T) {
	var w WireSession
	body := `{"session_id":"076e6cc7-49e4-4ad9-809c-a49934b8a484","local_asn":15169,"local_ip":"2001:7F8:1::A501:5169:1",
		"peer_asn":13335,"peer_ip":"2001:7f8:1:0:0:a501:3335:1","location":"pdb:fac:58","status":"PENDING"}`
	if err := json.Unmarshal([]byte(body), &w); err != nil {
		t.Fatal(err)
	}
	terms, err := FromWire(w, 13335)
	if err != nil {
		t.Fatal(err)
	}
	if !terms.LocalInsertASN || !terms.PeerInsertASN || terms.LocalMonitoringSession || terms.PeerMonitoringSession {
		t.Errorf("defaults not applied: %+v", terms)
	}
	if terms.PeerType != "private" || terms.Location != "pdb:fac:58" {
		t.Errorf("a facility is private: %+v", terms)
	}
	if terms.PeerIP != "2001:7f8:1::a501:5169:1" || terms.LocalIP != "2001:7f8:1::a501:3335:1" {
		t.Errorf("addresses not canonical: %s %s", terms.LocalIP, terms.PeerIP)
	}
	if Status(w.Status) != "pending" {
		t.Errorf("status read case-sensitively: %s", Status(w.Status))
	}
}

func TestDifferencesNameEveryTermInOurReading(t *testing.T) {
	has := cloudflareToGoogle()
	has.LocalRole, has.PeerRole = role(4), role(4)
	asked := cloudflareToGoogle()
	asked.PeerMonitoringSession = true
	asked.PeerIP = "80.249.208.247" // the same address
	var names []string
	for _, d := range Differences(has, asked) {
		names = append(names, d.Attribute)
	}
	if got := strings.Join(names, ","); got != "local_bgp_role,peer_bgp_role,peer_monitoring_session" {
		t.Errorf("differences = %s", got)
	}
	d := Differences(has, asked)[0].String()
	if d != "local_bgp_role (the peer has 4 (peer), the configuration asks for no role)" {
		t.Errorf("difference reads %q", d)
	}
	same := cloudflareToGoogle()
	same.PeerType = "public" // as the location says: no difference
	if d := Differences(cloudflareToGoogle(), same); len(d) != 0 {
		t.Errorf("an implied peer type differs: %v", d)
	}
}

func TestAttributeOfWireFieldSwapsSides(t *testing.T) {
	for name, want := range map[string]string{
		"sessions[0].local_ip":                 "peer_ip",
		"sessions[12].peer_ip":                 "local_ip",
		"sessions[0].local_asn":                "peer_asn",
		"sessions[0].peer_bgp_role":            "local_bgp_role",
		"sessions[0].local_monitoring_session": "peer_monitoring_session",
		"sessions[0].location.id":              "location",
		"sessions[0].peer_type":                "peer_type",
		"sessions[0].md5":                      "session_secret",
		"local_insert_asn":                     "peer_insert_asn",
	} {
		if got, ok := AttributeOfWireField(name); !ok || got != want {
			t.Errorf("%s → %q (%v), want %s", name, got, ok, want)
		}
	}
	for _, name := range []string{"request", "sessions", "authorization", "sessions[0]", "sessions[0].local_something"} {
		if got, ok := AttributeOfWireField(name); ok {
			t.Errorf("%s → %q, want no attribute", name, got)
		}
	}
}

func TestParseImportID(t *testing.T) {
	for text, want := range map[string]ImportID{
		"076E6CC7-49E4-4AD9-809C-A49934B8A484": {SessionID: "076e6cc7-49e4-4ad9-809c-a49934b8a484"},
		"pdb:ix:26,80.249.211.140,80.249.208.247": {
			Location: "pdb:ix:26", LocalIP: "80.249.211.140", PeerIP: "80.249.208.247",
		},
		" pdb:ix:26 , 2001:7F8:1::A501:3335:1 , 2001:7f8:1:0::a501:5169:1": {
			Location: "pdb:ix:26", LocalIP: "2001:7f8:1::a501:3335:1", PeerIP: "2001:7f8:1::a501:5169:1",
		},
		"https://peering.example.net/v0.1/,076e6cc7-49e4-4ad9-809c-a49934b8a484": {
			APIURL: "https://peering.example.net/v0.1", SessionID: "076e6cc7-49e4-4ad9-809c-a49934b8a484",
		},
		"http://127.0.0.1:8080/v0.1,pdb:fac:58,192.0.2.1,192.0.2.2": {
			APIURL: "http://127.0.0.1:8080/v0.1", Location: "pdb:fac:58", LocalIP: "192.0.2.1", PeerIP: "192.0.2.2",
		},
	} {
		got, err := ParseImportID(text)
		if err != nil || got != want {
			t.Errorf("%q → %+v, %v; want %+v", text, got, err, want)
		}
	}
	for text, says := range map[string]string{
		"not-a-uuid":                       "is not a session id",
		"ix:26,192.0.2.1,192.0.2.2":        "pdb:ix:<PeeringDB ix id>",
		"pdb:ix:26,192.0.2.1/24,192.0.2.2": "local_ip: \"192.0.2.1/24\" has a prefix length",
		"pdb:ix:26,192.0.2.1,nowhere":      "peer_ip: \"nowhere\" is not an IPv4 or IPv6 address",
		"pdb:ix:26,192.0.2.1":              "has 2 comma-separated parts",
		"":                                 "is not a session id",
	} {
		_, err := ParseImportID(text)
		if err == nil || !strings.Contains(err.Error(), says) || !strings.Contains(err.Error(), "expected <session_id>") {
			t.Errorf("%q: error %v, want one saying %q and the formats", text, err, says)
		}
	}
}

func TestRequestIDIsStableAndFollowsTheTerms(t *testing.T) {
	a := cloudflareToGoogle()
	b := cloudflareToGoogle()
	b.LocalIP = "80.249.211.140"
	if RequestID(a) != RequestID(b) {
		t.Error("same terms, different request ids")
	}
	if !regexp.MustCompile(`^[A-Za-z0-9._~:-]{1,128}$`).MatchString(RequestID(a)) {
		t.Errorf("request id %q breaks the API's rule", RequestID(a))
	}
	c := cloudflareToGoogle()
	c.LocalRole, c.PeerRole = role(4), role(4)
	d := cloudflareToGoogle()
	d.PeerIP = "80.249.209.100"
	for _, other := range []Terms{c, d} {
		if RequestID(other) == RequestID(a) {
			t.Errorf("other terms, same request id: %+v", other)
		}
	}
}

func TestCheckNamesTheAttribute(t *testing.T) {
	cases := []struct {
		change    func(*Terms)
		attribute string
		says      string
	}{
		{func(t *Terms) { t.PeerIP = "2001:7f8:1::a501:5169:1" }, "peer_ip", "different address families"},
		{func(t *Terms) { t.PeerIP = t.LocalIP }, "peer_ip", "same address as local_ip"},
		{func(t *Terms) { t.LocalRole, t.PeerRole = role(0), role(0) }, "peer_bgp_role", "not RFC 9234 role-correct"},
		{func(t *Terms) { t.LocalMonitoringSession, t.PeerMonitoringSession = true, true }, "peer_monitoring_session", "one side"},
		{func(t *Terms) { t.PeerType = "private" }, "peer_type", "disagrees with location pdb:ix:26, which is public"},
		{func(t *Terms) { t.LocalIP = "224.0.0.5" }, "local_ip", "multicast"},
		{func(t *Terms) { t.PeerIP = "fe80::1" }, "peer_ip", "link-local"},
		{func(t *Terms) { t.Location = "pdb:ix:0" }, "location", "pdb:ix:<PeeringDB ix id>"},
	}
	for _, c := range cases {
		terms := cloudflareToGoogle()
		c.change(&terms)
		problems := Check(terms)
		found := false
		for _, p := range problems {
			found = found || (p.Attribute == c.attribute && strings.Contains(p.Message, c.says))
		}
		if !found {
			t.Errorf("%+v: problems %+v, want %s: …%s…", terms, problems, c.attribute, c.says)
		}
	}
	good := cloudflareToGoogle()
	good.LocalRole, good.PeerRole = role(1), role(2)
	good.LocalIP = "127.0.0.2" // loopback is the server's policy to judge (a lab may allow it)
	good.PeerIP = "127.0.0.3"
	if problems := Check(good); len(problems) != 0 {
		t.Errorf("good terms refused: %+v", problems)
	}
}

func TestStatusesAreReadCaseInsensitively(t *testing.T) {
	if Status("Established") != "established" || Status("Negotiating") != "Negotiating" {
		t.Error("known words are lower-cased, unknown ones kept")
	}
	for _, c := range []struct {
		status, want string
		reached      bool
	}{
		{"pending", "approved", false},
		{"APPROVED", "approved", true},
		{"established", "configured", true},
		{"down", "configured", true},
		{"down", "established", false},
		{"configured", "established", false},
		{"negotiating", "approved", false},
	} {
		if Reached(c.status, c.want) != c.reached {
			t.Errorf("Reached(%s, %s) = %v", c.status, c.want, !c.reached)
		}
	}
	if !Failed("Rejected") || !Failed("unestablished") || Failed("down") {
		t.Error("rejected and unestablished end a wait; down does not")
	}
}

func TestKeyMatchesAnySpelling(t *testing.T) {
	key := Key{LocalASN: 13335, Location: "pdb:ix:26", LocalIP: "2001:7f8:1::a501:3335:1", PeerIP: "2001:7f8:1::a501:5169:1"}
	terms := Terms{LocalASN: 13335, Location: "pdb:ix:26", LocalIP: "2001:07f8:0001::a501:3335:1", PeerIP: "2001:7F8:1::A501:5169:1"}
	if !key.Of(terms) {
		t.Error("the same addresses in other spellings are the same key")
	}
	terms.LocalASN = 13336
	if key.Of(terms) {
		t.Error("another of our ASNs is another key")
	}
}
