package provider_test

// Acceptance tests: the provider, in process, driven by the real terraform CLI through terraform-plugin-testing,
// against a real Peering API server. They run with TF_ACC=1 and the PEERING_ACC_* variables (set by
// provider/test/terraform-provider.test.ts, which starts our server as AS15169 on the real PeeringDB sample):
//
//	PEERING_ACC_API_URL      the server's base URL, base path included
//	PEERING_ACC_TOKEN        a bearer token acting for PEERING_ACC_LOCAL_ASN
//	PEERING_ACC_LOCAL_ASN    our ASN (the initiator), PEERING_ACC_PEER_ASN the server's
//	PEERING_ACC_LOCATION     a location both networks are at (pdb:ix:26)
//	PEERING_ACC_LOCAL_IP     our IPv4 address there; PEERING_ACC_PEER_IPS two IPv4 addresses of the peer there
//	PEERING_ACC_LOCAL_IP6, PEERING_ACC_PEER_IP6      an IPv6 pair there
//	PEERING_ACC_FOREIGN_PEER_IP   an address in the exchange's LAN that is not the peer's
//	PEERING_ACC_OAUTH2_TOKEN_URL, _CLIENT_ID, _CLIENT_SECRET, _RESOURCE   a client credentials client for our ASN
//
// With TF_ACC set, a missing variable fails the test: a run that was meant to test must not pass by skipping.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/peering-operator/peering-operator/provider/terraform-provider-peering/internal/peeringapi"
	"github.com/peering-operator/peering-operator/provider/terraform-provider-peering/internal/provider"
	"github.com/peering-operator/peering-operator/provider/terraform-provider-peering/internal/session"
)

func TestMain(m *testing.M) {
	// terraform-plugin-testing downloads Terraform unless told which binary to run; nothing can be downloaded
	// here, so use the one on the PATH.
	if os.Getenv("TF_ACC_TERRAFORM_PATH") == "" {
		if found, err := exec.LookPath("terraform"); err == nil {
			_ = os.Setenv("TF_ACC_TERRAFORM_PATH", found)
		}
	}
	// The configurations name the provider by its real source address, peering-operator/peering.
	if os.Getenv("TF_ACC_PROVIDER_NAMESPACE") == "" {
		_ = os.Setenv("TF_ACC_PROVIDER_NAMESPACE", "peering-operator")
	}
	_ = os.Setenv("CHECKPOINT_DISABLE", "1")
	os.Exit(m.Run())
}

var factories = map[string]func() (tfprotov6.ProviderServer, error){
	"peering": providerserver.NewProtocol6WithError(provider.New("acc")()),
}

// Write-only attributes need Terraform 1.11.
var terraform111 = []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)}

type accEnv struct {
	apiURL, token          string
	localASN, peerASN      int64
	location, localIP      string
	peerIPs                []string
	localIP6, peerIP6      string
	foreignPeerIP          string
	oauthTokenURL, oauthID string
	oauthSecret, oauthRes  string
	peer                   *peeringapi.API
}

// environment reads the PEERING_ACC_* variables: a skip without TF_ACC (as resource.Test would), a failure
// with TF_ACC and a variable missing.
func environment(t *testing.T) accEnv {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 and the PEERING_ACC_* variables (provider/test/terraform-provider.test.ts does)")
	}
	var missing []string
	get := func(name string) string {
		value := os.Getenv(name)
		if value == "" {
			missing = append(missing, name)
		}
		return value
	}
	number := func(name string) int64 {
		n, _ := strconv.ParseInt(get(name), 10, 64)
		return n
	}
	e := accEnv{
		apiURL: get("PEERING_ACC_API_URL"), token: get("PEERING_ACC_TOKEN"),
		localASN: number("PEERING_ACC_LOCAL_ASN"), peerASN: number("PEERING_ACC_PEER_ASN"),
		location: get("PEERING_ACC_LOCATION"), localIP: get("PEERING_ACC_LOCAL_IP"),
		peerIPs:  strings.Split(get("PEERING_ACC_PEER_IPS"), ","),
		localIP6: get("PEERING_ACC_LOCAL_IP6"), peerIP6: get("PEERING_ACC_PEER_IP6"),
		foreignPeerIP: get("PEERING_ACC_FOREIGN_PEER_IP"),
		oauthTokenURL: get("PEERING_ACC_OAUTH2_TOKEN_URL"), oauthID: get("PEERING_ACC_OAUTH2_CLIENT_ID"),
		oauthSecret: get("PEERING_ACC_OAUTH2_CLIENT_SECRET"), oauthRes: get("PEERING_ACC_OAUTH2_RESOURCE"),
	}
	if len(missing) > 0 {
		t.Fatalf("TF_ACC is set but %s are not", strings.Join(missing, ", "))
	}
	if len(e.peerIPs) < 2 {
		t.Fatalf("PEERING_ACC_PEER_IPS must list two addresses, got %q", os.Getenv("PEERING_ACC_PEER_IPS"))
	}
	// The provider reads the token from the environment, as a user's would.
	t.Setenv("PEERING_API_TOKEN", e.token)
	t.Setenv("PEERING_API_URL", "")
	t.Setenv("PEERING_LOCAL_ASN", "")
	e.peer = peeringapi.New(peeringapi.Options{Auth: peeringapi.StaticToken(e.token)}).At(e.apiURL)
	return e
}

// config is the provider block and the given resources.
func (e accEnv) config(body string) string { return e.configWith("", body) }

// configWith is config with more lines in the provider block (credentials).
func (e accEnv) configWith(providerLines, body string) string {
	return fmt.Sprintf(`
terraform {
  required_providers {
    peering = { source = "peering-operator/peering" }
  }
}

provider "peering" {
  api_url   = %q
  local_asn = %d
%s}
%s`, e.apiURL, e.localASN, providerLines, body)
}

// session is a peering_session block with the test's peer and location.
func (e accEnv) session(name, localIP, peerIP, extra string) string {
	return fmt.Sprintf(`
resource "peering_session" %q {
  peer_asn = %d
  location = %q
  local_ip = %q
  peer_ip  = %q
%s
}
`, name, e.peerASN, e.location, localIP, peerIP, extra)
}

var uuid = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// idOf reads a resource's id from the state into *id.
func idOf(address string, id *string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		r, ok := s.RootModule().Resources[address]
		if !ok {
			return fmt.Errorf("%s is not in the state", address)
		}
		*id = r.Primary.ID
		return nil
	}
}

// atPeer checks with a GET of our own that the peer has the session in `status`.
func (e accEnv) atPeer(id *string, status string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		got, err := e.peer.GetSession(context.Background(), *id)
		if err != nil {
			return fmt.Errorf("GET session %s: %w", *id, err)
		}
		if got.Status != status {
			return fmt.Errorf("session %s is %s at the peer, want %s", *id, got.Status, status)
		}
		return nil
	}
}

// goneAtPeer checks that the peer answers 404 for the session.
func (e accEnv) goneAtPeer(id *string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		_, err := e.peer.GetSession(context.Background(), *id)
		var apiErr *peeringapi.APIError
		if errors.As(err, &apiErr) && apiErr.NotFound() {
			return nil
		}
		return fmt.Errorf("session %s: want 404 from the peer, got %v", *id, err)
	}
}

// checkDestroyed is a CheckDestroy: every peering_session of the state is gone at the peer (404).
func (e accEnv) checkDestroyed(s *terraform.State) error {
	for address, r := range s.RootModule().Resources {
		if r.Type != "peering_session" || strings.HasPrefix(address, "data.") {
			continue
		}
		id := r.Primary.ID
		if err := e.goneAtPeer(&id)(s); err != nil {
			return fmt.Errorf("%s after destroy: %w", address, err)
		}
	}
	return nil
}

// keyOf is a natural-key import id.
func (e accEnv) keyOf(localIP, peerIP string) string {
	return strings.Join([]string{e.location, localIP, peerIP}, ",")
}

// importIgnore: what a peer cannot tell an import (the secret and its version, our wait settings, the request).
var importIgnore = []string{"session_secret", "session_secret_version", "wait_for_status", "wait_timeout", "request_id"}

func TestAccSessionCreateImportReplaceDestroy(t *testing.T) {
	e := environment(t)
	var first, second string
	secret := `
  session_secret         = "acc-s3cret-value"
  session_secret_version = 1
  wait_for_status        = "approved"`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		TerraformVersionChecks:   terraform111,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: e.config(e.session("v4", e.localIP, e.peerIPs[0], secret)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("peering_session.v4", tfjsonpath.New("status"), knownvalue.StringExact("approved")),
					statecheck.ExpectKnownValue("peering_session.v4", tfjsonpath.New("session_secret"), knownvalue.Null()),
					statecheck.ExpectKnownValue("peering_session.v4", tfjsonpath.New("local_asn"), knownvalue.Int64Exact(e.localASN)),
					statecheck.ExpectKnownValue("peering_session.v4", tfjsonpath.New("api_url"), knownvalue.StringExact(e.apiURL)),
					statecheck.ExpectKnownValue("peering_session.v4", tfjsonpath.New("peer_type"), knownvalue.StringExact("public")),
					statecheck.ExpectKnownValue("peering_session.v4", tfjsonpath.New("local_insert_asn"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue("peering_session.v4", tfjsonpath.New("local_bgp_role"), knownvalue.Null()),
					statecheck.ExpectKnownValue("peering_session.v4", tfjsonpath.New("session_secret_version"), knownvalue.Int64Exact(1)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestMatchResourceAttr("peering_session.v4", "id", uuid),
					resource.TestCheckResourceAttrPair("peering_session.v4", "id", "peering_session.v4", "session_id"),
					resource.TestMatchResourceAttr("peering_session.v4", "request_id", uuid),
					resource.TestCheckNoResourceAttr("peering_session.v4", "session_secret"),
					idOf("peering_session.v4", &first),
					e.atPeer(&first, "approved"),
				),
			},
			{
				ResourceName:            "peering_session.v4",
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: importIgnore,
			},
			{
				ResourceName:            "peering_session.v4",
				ImportState:             true,
				ImportStateId:           e.keyOf(e.localIP, e.peerIPs[0]),
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: importIgnore,
			},
			{
				ResourceName:  "peering_session.v4",
				ImportState:   true,
				ImportStateId: e.keyOf(e.localIP, e.foreignPeerIP),
				ExpectError:   regexp.MustCompile(`No such session to import`),
			},
			{
				// A session's terms cannot change in place: another peer address is another session.
				Config: e.config(e.session("v4", e.localIP, e.peerIPs[1], secret)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("peering_session.v4", plancheck.ResourceActionDestroyBeforeCreate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					e.goneAtPeer(&first),
					idOf("peering_session.v4", &second),
					e.atPeer(&second, "approved"),
					resource.TestCheckResourceAttr("peering_session.v4", "peer_ip", e.peerIPs[1]),
				),
			},
			{
				// A new secret version replaces the session, so the new secret is sent.
				Config: e.config(e.session("v4", e.localIP, e.peerIPs[1], strings.Replace(secret, "= 1", "= 2", 1))),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("peering_session.v4", plancheck.ResourceActionDestroyBeforeCreate),
				}},
				Check: e.goneAtPeer(&second),
			},
		},
	})
}

func TestAccSessionAddressSpellingRolesAndDataSource(t *testing.T) {
	e := environment(t)
	// The peer answers in canonical (lower case) form; the configuration's spelling must show no difference.
	upper := func(ip string) string { return strings.ToUpper(ip) }
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		TerraformVersionChecks:   terraform111,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: e.config(e.session("v6", upper(e.localIP6), upper(e.peerIP6), `
  local_bgp_role = 4
  peer_bgp_role  = 4
`) + `
data "peering_session" "v6" {
  session_id = peering_session.v6.id
}
`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("peering_session.v6", "local_ip", upper(e.localIP6)),
					resource.TestCheckResourceAttr("data.peering_session.v6", "local_ip", e.localIP6),
					resource.TestCheckResourceAttr("data.peering_session.v6", "peer_ip", e.peerIP6),
					resource.TestCheckResourceAttr("data.peering_session.v6", "local_asn", fmt.Sprint(e.localASN)),
					resource.TestCheckResourceAttr("data.peering_session.v6", "peer_asn", fmt.Sprint(e.peerASN)),
					resource.TestCheckResourceAttr("data.peering_session.v6", "local_bgp_role", "4"),
					resource.TestCheckResourceAttr("data.peering_session.v6", "peer_bgp_role", "4"),
					resource.TestCheckResourceAttr("data.peering_session.v6", "status", "approved"),
					resource.TestCheckResourceAttr("data.peering_session.v6", "api_url", e.apiURL),
				),
			},
		},
	})
}

func TestAccSessionRefusedThenFixed(t *testing.T) {
	e := environment(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		TerraformVersionChecks:   terraform111,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: e.config(e.session("v4", e.localIP, e.foreignPeerIP, "")),
				// The peer names its own address local_ip; here that is peer_ip.
				ExpectError: regexp.MustCompile(`(?s)refused the session: LOCAL_IP_NOT_OURS.*peer_ip.*in this resource that is\s+peer_ip`),
			},
			{
				PreConfig: func() {
					found, _, err := e.peer.FindSession(context.Background(), session.Key{LocalASN: e.localASN, Location: e.location, LocalIP: e.localIP, PeerIP: e.foreignPeerIP})
					if err != nil || found != nil {
						t.Fatalf("a refused session must not exist at the peer: %+v %v", found, err)
					}
				},
				Config: e.config(e.session("v4", e.localIP, e.peerIPs[0], "")),
				Check:  resource.TestCheckResourceAttr("peering_session.v4", "status", "approved"),
			},
			{
				// A first secret version on a session that had none (as after an import) is recorded, not a
				// reason to de-peer.
				Config: e.config(e.session("v4", e.localIP, e.peerIPs[0], "  session_secret = \"new-s3cret\"\n  session_secret_version = 1")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("peering_session.v4", plancheck.ResourceActionUpdate),
				}},
				Check: resource.TestCheckResourceAttr("peering_session.v4", "session_secret_version", "1"),
			},
		},
	})
}

func TestAccSessionWithOtherTermsIsNeverAdopted(t *testing.T) {
	e := environment(t)
	four := int64(4)
	var direct string
	t.Cleanup(func() {
		if direct != "" {
			_ = e.peer.DeleteSession(context.Background(), direct)
		}
	})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		TerraformVersionChecks:   terraform111,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{
				// Someone asked for the session with roles, outside Terraform.
				PreConfig: func() {
					terms := session.Terms{LocalASN: e.localASN, PeerASN: e.peerASN, Location: e.location, LocalIP: e.localIP,
						PeerIP: e.peerIPs[1], LocalRole: &four, PeerRole: &four, LocalInsertASN: true, PeerInsertASN: true}
					answer, err := e.peer.RequestSessions(context.Background(), peeringapi.SessionRequest{Sessions: []session.WireSessionInput{session.ToWire(terms, "")}})
					if err != nil || len(answer.Sessions) != 1 {
						t.Fatalf("direct request: %+v %v", answer, err)
					}
					direct = answer.Sessions[0].SessionID
				},
				Config:      e.config(e.session("v4", e.localIP, e.peerIPs[1], "")),
				ExpectError: regexp.MustCompile(`(?s)Session exists with other terms: local_bgp_role, peer_bgp_role.*local_bgp_role \(the peer has 4 \(peer\), the\s+configuration asks for no role\)`),
			},
			{
				// The same terms adopt the session the peer has.
				Config: e.config(e.session("v4", e.localIP, e.peerIPs[1], "  local_bgp_role = 4\n  peer_bgp_role = 4")),
				Check: func(s *terraform.State) error {
					if got := s.RootModule().Resources["peering_session.v4"].Primary.ID; got != direct {
						return fmt.Errorf("adopted %s, want the existing %s", got, direct)
					}
					return nil
				},
			},
		},
	})
}

func TestAccSessionRemovedAtThePeerOrFromTheConfiguration(t *testing.T) {
	e := environment(t)
	var first, second string
	config := e.config(e.session("v4", e.localIP, e.peerIPs[0], ""))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		TerraformVersionChecks:   terraform111,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: config, Check: idOf("peering_session.v4", &first)},
			{
				// De-peered at the peer: the refresh drops it and the plan asks for it again.
				PreConfig: func() {
					if err := e.peer.DeleteSession(context.Background(), first); err != nil {
						t.Fatal(err)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("peering_session.v4", plancheck.ResourceActionCreate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(idOf("peering_session.v4", &second), e.atPeer(&second, "approved")),
			},
			{
				// Removed from the configuration: de-peered.
				Config: e.config(""),
				Check:  e.goneAtPeer(&second),
			},
		},
	})
}

func TestAccSessionWaitForAStatusThatDoesNotCome(t *testing.T) {
	e := environment(t)
	var id string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		TerraformVersionChecks:   terraform111,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{
				// Our test server has no router: the session stays approved.
				Config:      e.config(e.session("v4", e.localIP, e.peerIPs[0], "  wait_for_status = \"established\"\n  wait_timeout = \"3s\"")),
				ExpectError: regexp.MustCompile(`(?s)Timed out waiting for the session.*is still approved after 3s`),
			},
			{
				// It was kept (tainted), so the next apply replaces it rather than forgetting it at the peer.
				Config: e.config(e.session("v4", e.localIP, e.peerIPs[0], "")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("peering_session.v4", plancheck.ResourceActionDestroyBeforeCreate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(idOf("peering_session.v4", &id), e.atPeer(&id, "approved")),
			},
		},
	})
}

func TestAccLocations(t *testing.T) {
	e := environment(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{
			{
				Config: e.config(fmt.Sprintf(`
data "peering_locations" "peer" {
  peer_asn = %d
}
data "peering_locations" "private" {
  location_type = "private"
}`, e.peerASN)),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckTypeSetElemNestedAttrs("data.peering_locations.peer", "locations.*", map[string]string{
						"id": e.location, "type": "public", "peer_asn": fmt.Sprint(e.peerASN),
					}),
					// More than one page of 100: every page was read.
					resource.TestCheckResourceAttrWith("data.peering_locations.peer", "locations.#", func(n string) error {
						if count, _ := strconv.Atoi(n); count <= 100 {
							return fmt.Errorf("%s locations; the sample has more than one page", n)
						}
						return nil
					}),
					hasPeerIP("data.peering_locations.peer", e.location, e.peerIPs[0]),
					resource.TestCheckTypeSetElemNestedAttrs("data.peering_locations.private", "locations.*", map[string]string{"type": "private"}),
				),
			},
		},
	})
}

// hasPeerIP checks that the listed location has the address among its peer_ips.
func hasPeerIP(address, location, ip string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		attributes := s.RootModule().Resources[address].Primary.Attributes
		for key, value := range attributes {
			if strings.HasSuffix(key, ".id") && value == location {
				prefix := strings.TrimSuffix(key, ".id")
				for k, v := range attributes {
					if strings.HasPrefix(k, prefix+".peer_ips.") && v == ip {
						return nil
					}
				}
				return fmt.Errorf("%s lists %s without %s", address, location, ip)
			}
		}
		return fmt.Errorf("%s does not list %s", address, location)
	}
}

func TestAccOAuth2ClientCredentials(t *testing.T) {
	e := environment(t)
	t.Setenv("PEERING_API_TOKEN", "")
	var id string
	provider := func(secret string) string {
		return e.configWith(fmt.Sprintf(`  oauth2 {
    token_url     = %q
    client_id     = %q
    client_secret = %q
    resource      = %q
  }
`, e.oauthTokenURL, e.oauthID, secret, e.oauthRes), "")
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		TerraformVersionChecks:   terraform111,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{
				// A refused client is said to be one, not taken for a peer that does not answer.
				Config:      provider("not-the-secret-0123456789") + `data "peering_locations" "all" {}`,
				ExpectError: regexp.MustCompile(`(?s)refused\s+client\s+"` + regexp.QuoteMeta(e.oauthID) + `".*invalid_client`),
			},
			{
				Config: provider(e.oauthSecret) + e.session("v6", e.localIP6, e.peerIP6, ""),
				Check:  resource.ComposeAggregateTestCheckFunc(idOf("peering_session.v6", &id), e.atPeer(&id, "approved")),
			},
		},
	})
}

func TestAccConfigurationErrorsNameTheAttribute(t *testing.T) {
	e := environment(t)
	session := e.session("v4", e.localIP, e.peerIPs[0], "")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		TerraformVersionChecks:   terraform111,
		Steps: []resource.TestStep{
			{
				Config:      strings.Replace(e.config(session), e.apiURL, "ftp://peering.example.net/v0.1", 1),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Invalid api_url.*not ftp:`),
			},
			{
				Config:      strings.Replace(e.config(session), "local_asn =", "token = \"x\"\n  oauth2 {\n    token_url = \"http://127.0.0.1:1/token\"\n    client_id = \"c\"\n    client_secret = \"s\"\n  }\n  local_asn =", 1),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`Conflicting authentication`),
			},
			{
				Config:      strings.Replace(e.config(session), fmt.Sprintf("local_asn = %d", e.localASN), "", 1),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Missing local_asn.*PEERING_LOCAL_ASN`),
			},
			{
				Config:      e.config(e.session("v4", e.localIP, e.peerIP6, "  local_bgp_role = 4")),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)different\s+address\s+families.*together: \[local_bgp_role,peer_bgp_role\]`),
			},
			{
				Config:      e.config(e.session("v4", e.localIP, e.peerIPs[0], "  session_secret = \"has space\"")),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)session_secret.*printable\s+ASCII\s+without\s+spaces`),
			},
		},
	})
}
