package provider

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	fwprovider "github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/peering-operator/peering-operator/provider/terraform-provider-peering/internal/peeringapi"
	"github.com/peering-operator/peering-operator/provider/terraform-provider-peering/internal/session"
)

func TestSchemasAreValid(t *testing.T) {
	ctx := context.Background()
	p := New("test")()
	var ps fwprovider.SchemaResponse
	p.Schema(ctx, fwprovider.SchemaRequest{}, &ps)
	if ps.Diagnostics.HasError() {
		t.Fatal(ps.Diagnostics)
	}
	for _, newResource := range p.Resources(ctx) {
		var rs resource.SchemaResponse
		newResource().Schema(ctx, resource.SchemaRequest{}, &rs)
		if diags := rs.Schema.ValidateImplementation(ctx); diags.HasError() || rs.Diagnostics.HasError() {
			t.Errorf("resource schema: %v %v", diags, rs.Diagnostics)
		}
		if !rs.Schema.Attributes["session_secret"].IsWriteOnly() || !rs.Schema.Attributes["session_secret"].IsSensitive() {
			t.Error("session_secret must be write-only and sensitive")
		}
	}
	for _, newDataSource := range p.DataSources(ctx) {
		var ds datasource.SchemaResponse
		newDataSource().Schema(ctx, datasource.SchemaRequest{}, &ds)
		if diags := ds.Schema.ValidateImplementation(ctx); diags.HasError() || ds.Diagnostics.HasError() {
			t.Errorf("data source schema: %v %v", diags, ds.Diagnostics)
		}
	}
}

func TestRefusalsLandOnTheAttributeInOurReading(t *testing.T) {
	var diags diag.Diagnostics
	addAPIError(&diags, "The peer refused the session", &peeringapi.APIError{
		Method: "POST", URL: "https://peering.google.example/v0.1/sessions", Status: 400, TraceID: "abc",
		Items: []peeringapi.FieldError{
			{Name: "sessions[0].local_ip", Code: "LOCAL_IP_NOT_OURS", Errors: []string{"80.249.208.1 is not an address of AS15169"}},
			{Name: "sessions[0].peer_ip", Code: "peer_ip_not_registered", Errors: []string{"not in PeeringDB"}},
			{Name: "request", Code: "PENDING_LIMIT", Errors: []string{"too many pending"}},
		},
	})
	if len(diags) != 3 {
		t.Fatalf("%d diagnostics: %v", len(diags), diags)
	}
	want := []struct {
		path    string
		summary string
		detail  string
	}{
		{"peer_ip", "The peer refused the session: LOCAL_IP_NOT_OURS", "in this resource that is peer_ip"},
		{"local_ip", "The peer refused the session: PEER_IP_NOT_REGISTERED", "\"sessions[0].peer_ip\" in its own reading"},
		{"", "The peer refused the session: PENDING_LIMIT", "(on request)"},
	}
	for i, w := range want {
		d := diags[i]
		withPath, ok := d.(diag.DiagnosticWithPath)
		if w.path == "" {
			if ok {
				t.Errorf("%d: %v has a path", i, d)
			}
		} else if !ok || !withPath.Path().Equal(path.Root(w.path)) {
			t.Errorf("%d: %q not on %s", i, d.Summary(), w.path)
		}
		if d.Summary() != w.summary || !strings.Contains(d.Detail(), w.detail) || !strings.Contains(d.Detail(), "X-Request-Id is abc") {
			t.Errorf("%d: %q / %q", i, d.Summary(), d.Detail())
		}
	}

	diags = nil
	addAPIError(&diags, "Cannot read the session", &peeringapi.APIError{Method: "GET", URL: "https://x/v0.1/sessions/1", Status: 401})
	if !strings.Contains(diags[0].Summary(), "UNAUTHENTICATED") || !strings.Contains(diags[0].Detail(), "check token (or PEERING_API_TOKEN) or the oauth2 block") {
		t.Errorf("401: %v / %v", diags[0].Summary(), diags[0].Detail())
	}
}

func TestOtherTermsListEveryDifference(t *testing.T) {
	four := int64(4)
	has := session.Terms{LocalASN: 13335, PeerASN: 15169, Location: "pdb:ix:26", LocalIP: "2001:7f8:1::a501:3335:1", PeerIP: "2001:7f8:1::a501:5169:1", LocalRole: &four, PeerRole: &four, LocalInsertASN: true, PeerInsertASN: true}
	asked := has
	asked.LocalRole, asked.PeerRole = nil, nil
	var diags diag.Diagnostics
	addOtherTermsError(&diags, asked.Key(), "076e6cc7-49e4-4ad9-809c-a49934b8a484", session.Differences(has, asked), "session … exists with other …")
	d := diags[0]
	if d.Summary() != "Session exists with other terms: local_bgp_role, peer_bgp_role (SESSION_EXISTS_WITH_OTHER_TERMS)" {
		t.Errorf("summary %q", d.Summary())
	}
	for _, text := range []string{
		"local_bgp_role (the peer has 4 (peer), the configuration asks for no role)",
		"peer_bgp_role (the peer has 4 (peer), the configuration asks for no role)",
		"session 076e6cc7-49e4-4ad9-809c-a49934b8a484 for AS13335 at pdb:ix:26",
		"The peer said:",
	} {
		if !strings.Contains(d.Detail(), text) {
			t.Errorf("detail lacks %q:\n%s", text, d.Detail())
		}
	}
	if withPath, ok := d.(diag.DiagnosticWithPath); !ok || !withPath.Path().Equal(path.Root("local_bgp_role")) {
		t.Error("the diagnostic belongs to the first differing attribute")
	}
}

func TestAPIURLRules(t *testing.T) {
	for _, good := range []string{"https://peering.example.net/v0.1", "http://127.0.0.1:8080/v0.1/", "https://[2001:db8::1]/v0.1"} {
		if problem := checkAPIURL(good); problem != "" {
			t.Errorf("%s: %s", good, problem)
		}
	}
	for bad, says := range map[string]string{
		"ftp://peering.example.net/v0.1":                "not ftp:",
		"peering.example.net/v0.1":                      "must be an http(s) URL",
		"https://user:pw@peering.example.net/v0.1":      "carries credentials",
		"https://peering.example.net/v0.1?asn=1":        "query or fragment",
		"https:///v0.1":                                 "has no host",
		"https://peering.example.net/v0.1#fragmentpart": "query or fragment",
	} {
		problem := checkAPIURL(bad)
		if !strings.Contains(problem, says) || strings.Contains(problem, "pw@") {
			t.Errorf("%s: %q, want …%s…", bad, problem, says)
		}
	}
	for url, ok := range map[string]bool{
		"https://auth.peeringdb.com/oauth2/token/": true, "http://127.0.0.1:9000/token": true, "http://localhost/token": true,
		"http://[::1]:9000/token": true, "http://auth.example.net/token": false, "file:///etc/passwd": false,
	} {
		if (checkSecureURL(url) == "") != ok {
			t.Errorf("%s: %q", url, checkSecureURL(url))
		}
	}
}
