package peeringapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/peering-operator/peering-operator/provider/terraform-provider-peering/internal/session"
)

// recorder is a loopback server whose handler the test writes, counting requests and new connections.
type recorder struct {
	*httptest.Server
	connections atomic.Int32
	mu          sync.Mutex
	requests    []*http.Request
}

func serve(t *testing.T, handler func(w http.ResponseWriter, r *http.Request, n int)) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.requests = append(rec.requests, r)
		n := len(rec.requests)
		rec.mu.Unlock()
		handler(w, r, n)
	}))
	rec.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			rec.connections.Add(1)
		}
	}
	rec.Start()
	t.Cleanup(rec.Close)
	return rec
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.requests)
}

// noWait records the waits between attempts instead of sleeping them.
type noWait struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (n *noWait) sleep(_ context.Context, d time.Duration) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.waits = append(n.waits, d)
	return nil
}

func newClient(auth TokenSource, waits *noWait) *Client {
	return New(Options{Auth: auth, Sleep: waits.sleep})
}

const sessionID = "076e6cc7-49e4-4ad9-809c-a49934b8a484"

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func aSession() session.WireSession {
	return session.WireSession{
		SessionID: sessionID, LocalASN: 15169, LocalIP: "80.249.208.247", PeerASN: 13335, PeerIP: "80.249.211.140",
		Location: session.WireLocation{ID: "pdb:ix:26", Type: "public"}, Status: "approved",
	}
}

func TestRateLimitedCallsWaitForRetryAfterAndKeepTheirTraceID(t *testing.T) {
	server := serve(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n <= 2 {
			w.Header().Set("Retry-After", "2")
			writeJSON(w, 429, errorBody{Errors: []FieldError{{Name: "request", Code: "RATE_LIMITED", Errors: []string{"too many requests; retry in 2 s"}}}})
			return
		}
		writeJSON(w, 200, aSession())
	})
	waits := &noWait{}
	got, err := newClient(StaticToken("t0ken"), waits).At(server.URL+"/v0.1/").GetSession(context.Background(), sessionID)
	if err != nil {
		t.Fatal(err)
	}
	if got.SessionID != sessionID || server.count() != 3 {
		t.Fatalf("got %+v after %d requests", got, server.count())
	}
	for _, wait := range waits.waits {
		if wait < 2*time.Second || wait > 3*time.Second {
			t.Errorf("waited %s; Retry-After said 2 s", wait)
		}
	}
	first := server.requests[0]
	if first.URL.Path != "/v0.1/sessions/"+sessionID || first.Header.Get("Authorization") != "Bearer t0ken" || first.Header.Get("Accept") != "application/json" {
		t.Errorf("request %s %v", first.URL.Path, first.Header)
	}
	for _, r := range server.requests[1:] {
		if r.Header.Get("X-Request-Id") != first.Header.Get("X-Request-Id") {
			t.Error("a retry must carry the call's X-Request-Id")
		}
	}
}

func TestAPostWithoutRequestIDIsNeverRepeated(t *testing.T) {
	server := serve(t, func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(503) })
	waits := &noWait{}
	api := newClient(nil, waits).At(server.URL)
	_, err := api.RequestSessions(context.Background(), SessionRequest{Sessions: []session.WireSessionInput{{}}})
	if err == nil || server.count() != 1 {
		t.Fatalf("err %v after %d requests; want one", err, server.count())
	}
	_, err = api.RequestSessions(context.Background(), SessionRequest{RequestID: "tf-1", Sessions: []session.WireSessionInput{{}}})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Attempts != DefaultRetryPolicy.Attempts || apiErr.Code() != "REMOTE_UNAVAILABLE" {
		t.Fatalf("with a request id: %v", err)
	}
}

func TestErrorAnswersKeepTheirItems(t *testing.T) {
	server := serve(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		w.Header().Set("X-Request-Id", r.Header.Get("X-Request-Id"))
		switch {
		case r.Method == http.MethodPost:
			writeJSON(w, 400, map[string]any{"errors": []map[string]any{
				{"name": "sessions[0].local_ip", "code": "LOCAL_IP_NOT_OURS", "errors": []string{"80.249.208.1 is not an address of AS15169"}},
				// Another implementation's spelling.
				{"name": "sessions[0].peer_ip", "code": "PEER_IP_NOT_REGISTERED", "messages": []string{"not in PeeringDB"}},
			}})
		case r.Method == http.MethodDelete:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(404)
			_, _ = w.Write([]byte("<html>not here</html>"))
		default:
			writeJSON(w, 404, errorBody{Errors: []FieldError{{Name: "session_id", Code: "SESSION_NOT_FOUND", Errors: []string{"no session"}}}})
		}
	})
	api := newClient(StaticToken("s3cr3t-token"), &noWait{}).At(server.URL)
	_, err := api.RequestSessions(context.Background(), SessionRequest{RequestID: "tf-1", Sessions: []session.WireSessionInput{{}}})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || len(apiErr.Items) != 2 || apiErr.Code() != "LOCAL_IP_NOT_OURS" || !apiErr.Has("peer_ip_not_registered") {
		t.Fatalf("POST: %#v", err)
	}
	if apiErr.Items[1].Text() != "not in PeeringDB" || apiErr.TraceID == "" || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("items %+v, trace %q, error %v", apiErr.Items, apiErr.TraceID, err)
	}
	_, err = api.GetSession(context.Background(), sessionID)
	if !errors.As(err, &apiErr) || !apiErr.NotFound() || apiErr.Code() != "SESSION_NOT_FOUND" {
		t.Errorf("GET: %v", err)
	}
	err = api.DeleteSession(context.Background(), sessionID)
	if !errors.As(err, &apiErr) || !apiErr.NotFound() || apiErr.Code() != "NOT_FOUND" || len(apiErr.Items) != 0 {
		t.Errorf("DELETE with an HTML 404: %v", err)
	}
}

func TestManyCallsShareOneConnection(t *testing.T) {
	server := serve(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		if r.Method == http.MethodDelete {
			w.WriteHeader(204)
			return
		}
		writeJSON(w, 200, aSession())
	})
	api := newClient(nil, &noWait{}).At(server.URL)
	for i := 0; i < 50; i++ {
		if _, err := api.GetSession(context.Background(), sessionID); err != nil {
			t.Fatal(err)
		}
		if err := api.DeleteSession(context.Background(), sessionID); err != nil {
			t.Fatal(err)
		}
	}
	if n := server.connections.Load(); n != 1 {
		t.Errorf("100 sequential calls opened %d connections; keep-alive should reuse one", n)
	}
}

func TestFindSessionPagesUntilTheKey(t *testing.T) {
	server := serve(t, func(w http.ResponseWriter, r *http.Request, n int) {
		page := SessionPage{}
		other := aSession()
		other.LocalIP = "80.249.209.100"
		page.Sessions = []session.WireSession{other}
		switch r.URL.Query().Get("next_token") {
		case "":
			page.NextToken = "page2"
		case "page2":
			page.NextToken = "page3"
		case "page3":
			page.Sessions = append(page.Sessions, aSession())
			page.NextToken = "page4"
		case "page4":
		default:
			t.Errorf("read past the match: %s", r.URL)
		}
		if r.URL.Query().Get("asn") != "13335" {
			t.Errorf("asn %q", r.URL.Query().Get("asn"))
		}
		writeJSON(w, 200, page)
	})
	api := newClient(nil, &noWait{}).At(server.URL)
	found, terms, err := api.FindSession(context.Background(), session.Key{LocalASN: 13335, Location: "pdb:ix:26", LocalIP: "80.249.211.140", PeerIP: "80.249.208.247"})
	// The match is on page 3: page 4 is never asked for.
	if err != nil || found == nil || found.SessionID != sessionID || terms.PeerIP != "80.249.208.247" || server.count() != 3 {
		t.Fatalf("found %+v %v after %d pages", found, err, server.count())
	}
	none, _, err := api.FindSession(context.Background(), session.Key{LocalASN: 13335, Location: "pdb:ix:26", LocalIP: "80.249.211.140", PeerIP: "80.249.208.1"})
	if err != nil || none != nil {
		t.Errorf("no such session: %+v %v", none, err)
	}
}

func TestListLocationsReadsEveryPage(t *testing.T) {
	server := serve(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.URL.Query().Get("location_type") != "public" || r.URL.Query().Get("asn") != "15169" {
			t.Errorf("query %s", r.URL.RawQuery)
		}
		page := locationPage{Locations: []Location{{ID: fmt.Sprintf("pdb:ix:%d", n), Type: "public", ASN: 15169}}}
		if n < 3 {
			page.NextToken = fmt.Sprintf("t%d", n)
		}
		writeJSON(w, 200, page)
	})
	all, err := newClient(nil, &noWait{}).At(server.URL).ListLocations(context.Background(), 15169, "public")
	if err != nil || len(all) != 3 || all[2].ID != "pdb:ix:3" {
		t.Fatalf("%+v %v", all, err)
	}
}

func TestClientCredentialsAreCachedPerResourceUntilShortlyBeforeExpiry(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var issued atomic.Int32
	issuer := serve(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		if err := r.ParseForm(); err != nil {
			t.Fatal(err)
		}
		id, secret, basic := r.BasicAuth()
		if basic {
			// RFC 6749 §2.3.1: both parts are form-url-encoded inside Basic.
			id, _ = url.QueryUnescape(id)
			secret, _ = url.QueryUnescape(secret)
		} else {
			id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		if r.PostForm.Get("grant_type") != "client_credentials" || id != "svc-as13335" || secret != "secret:with&chars" {
			writeJSON(w, 401, map[string]string{"error": "invalid_client", "error_description": "client authentication failed"})
			return
		}
		n := issued.Add(1)
		writeJSON(w, 200, map[string]any{"access_token": fmt.Sprintf("token-%d-for-%s", n, r.PostForm.Get("resource")), "token_type": "Bearer", "expires_in": 300})
	})
	for _, method := range []string{"client_secret_post", "client_secret_basic"} {
		issued.Store(0)
		source := &ClientCredentials{TokenURL: issuer.URL, ClientID: "svc-as13335", ClientSecret: "secret:with&chars", AuthMethod: method,
			HTTP: http.DefaultClient, Now: func() time.Time { return now }}
		ctx := context.Background()
		for i := 0; i < 3; i++ {
			token, err := source.Token(ctx, "https://peering.google.example/v0.1")
			if err != nil || token != "token-1-for-https://peering.google.example/v0.1" {
				t.Fatalf("%s: %q %v", method, token, err)
			}
		}
		// Another API gets a token meant for it (RFC 8707: the resource defaults to the API called).
		if token, _ := source.Token(ctx, "https://peering.other.example/v0.1"); token != "token-2-for-https://peering.other.example/v0.1" {
			t.Errorf("%s: other API got %q", method, token)
		}
		now = now.Add(4 * time.Minute) // 300 s token: renewed a minute before expiry
		if token, _ := source.Token(ctx, "https://peering.google.example/v0.1"); token != "token-3-for-https://peering.google.example/v0.1" {
			t.Errorf("%s: after 4 of 5 minutes got %q, want a fresh token", method, token)
		}
	}
	wrong := &ClientCredentials{TokenURL: issuer.URL, ClientID: "svc-as13335", ClientSecret: "wrong", HTTP: http.DefaultClient}
	_, err := wrong.Token(context.Background(), "https://peering.google.example/v0.1")
	if err == nil || !strings.Contains(err.Error(), "invalid_client: client authentication failed") || strings.Contains(err.Error(), "wrong") {
		t.Errorf("refused client: %v", err)
	}
}

func TestARefusedTokenIsRenewedOnce(t *testing.T) {
	var issued atomic.Int32
	issuer := serve(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		writeJSON(w, 200, map[string]any{"access_token": fmt.Sprintf("token-%d", issued.Add(1)), "expires_in": 3600})
	})
	api := serve(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		// The first token was signed with a key the API has since retired.
		if r.Header.Get("Authorization") == "Bearer token-1" {
			writeJSON(w, 401, errorBody{Errors: []FieldError{{Name: "authorization", Code: "UNAUTHENTICATED", Errors: []string{"unknown key"}}}})
			return
		}
		writeJSON(w, 200, aSession())
	})
	source := &ClientCredentials{TokenURL: issuer.URL, ClientID: "c", ClientSecret: "s", Resource: "http://127.0.0.1/v0.1", HTTP: http.DefaultClient}
	if _, err := newClient(source, &noWait{}).At(api.URL).GetSession(context.Background(), sessionID); err != nil {
		t.Fatal(err)
	}
	if issued.Load() != 2 || api.count() != 2 {
		t.Errorf("%d tokens, %d calls; want 2 and 2", issued.Load(), api.count())
	}
}

func TestRetryPolicy(t *testing.T) {
	p := DefaultRetryPolicy
	half := func() float64 { return 0.5 }
	cases := []struct {
		name       string
		o          outcome
		failures   int
		limited    int
		replayable bool
		want       time.Duration
		again      bool
	}{
		{"a 400 is an answer", outcome{status: 400}, 1, 0, true, 0, false},
		{"not replayable", outcome{status: 503}, 1, 0, false, 0, false},
		{"first backoff", outcome{status: 502}, 1, 0, true, 125*time.Millisecond + 62500*time.Microsecond, true},
		{"network failure", outcome{}, 2, 0, true, 250*time.Millisecond + 125*time.Millisecond, true},
		{"attempts used up", outcome{status: 500}, 4, 0, true, 0, false},
		{"Retry-After is a floor", outcome{status: 429, retryAfter: 3 * time.Second, hasRetry: true}, 0, 1, true, 3*time.Second + 125*time.Millisecond, true},
		{"rate limited many times", outcome{status: 429, retryAfter: time.Second, hasRetry: true}, 0, 29, true, time.Second + 125*time.Millisecond, true},
		{"rate limited too often", outcome{status: 429, retryAfter: time.Second, hasRetry: true}, 0, 30, true, 0, false},
		{"Retry-After too long", outcome{status: 503, retryAfter: 2 * time.Minute, hasRetry: true}, 1, 0, true, 0, false},
		{"501 will not change", outcome{status: 501}, 1, 0, true, 0, false},
	}
	for _, c := range cases {
		got, again := p.delay(c.o, c.failures, c.limited, c.replayable, half)
		if got != c.want || again != c.again {
			t.Errorf("%s: %s %v, want %s %v", c.name, got, again, c.want, c.again)
		}
	}
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for text, want := range map[string]time.Duration{"7": 7 * time.Second, " 0 ": 0, "Wed, 01 Jan 2025 00:00:09 GMT": 9 * time.Second} {
		if got, ok := parseRetryAfter(text, now); !ok || got != want {
			t.Errorf("Retry-After %q = %s %v", text, got, ok)
		}
	}
	for _, text := range []string{"", "soon", "-1", "1.5"} {
		if _, ok := parseRetryAfter(text, now); ok {
			t.Errorf("Retry-After %q read as a delay", text)
		}
	}
}
