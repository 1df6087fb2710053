// Package provider is the Terraform provider `peering-operator/peering`: sessions of the IETF Peering API as
// Terraform resources, so that removing one from the configuration de-peers it, drift shows in a plan, and
// sessions made elsewhere can be imported.
package provider

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/peering-operator/peering-operator/provider/terraform-provider-peering/internal/peeringapi"
)

// Environment variables read when the provider block leaves the attribute out.
const (
	EnvAPIURL   = "PEERING_API_URL"
	EnvToken    = "PEERING_API_TOKEN"
	EnvLocalASN = "PEERING_LOCAL_ASN"
)

// MaxASN is the largest 32-bit ASN (docs/api.md §4).
const MaxASN = 4294967295

var _ provider.Provider = &peeringProvider{}

type peeringProvider struct {
	version string
}

// New returns the provider factory for providerserver.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &peeringProvider{version: version} }
}

type providerModel struct {
	APIURL         types.String `tfsdk:"api_url"`
	LocalASN       types.Int64  `tfsdk:"local_asn"`
	Token          types.String `tfsdk:"token"`
	OAuth2         *oauth2Model `tfsdk:"oauth2"`
	RequestTimeout types.String `tfsdk:"request_timeout"`
}

type oauth2Model struct {
	TokenURL     types.String `tfsdk:"token_url"`
	ClientID     types.String `tfsdk:"client_id"`
	ClientSecret types.String `tfsdk:"client_secret"`
	Resource     types.String `tfsdk:"resource"`
	Scope        types.String `tfsdk:"scope"`
	AuthMethod   types.String `tfsdk:"auth_method"`
}

// providerData is what resources and data sources get from Configure: one client (one connection pool, one
// token cache) for every resource, and the defaults.
type providerData struct {
	client *peeringapi.Client
	// apiURL is "" when neither the provider block nor PEERING_API_URL gives one; apiURLUnknown when it
	// depends on values known only after apply.
	apiURL        string
	apiURLUnknown bool
	// localASN is 0 when not given.
	localASN        int64
	localASNUnknown bool
}

func (p *peeringProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "peering"
	resp.Version = p.version
}

func (p *peeringProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Peering sessions through the IETF Peering API (draft-ramseyer-grow-peering-api) of the networks " +
			"you peer with. `local_*` is always your network, `peer_*` the network whose API is called.",
		Attributes: map[string]schema.Attribute{
			"api_url": schema.StringAttribute{
				Optional: true,
				Description: "Base URL of the peer's Peering API, base path included, e.g. https://peering.example.net/v0.1. " +
					"Default for every resource without its own api_url. Env: " + EnvAPIURL + ".",
			},
			"local_asn": schema.Int64Attribute{
				Optional:    true,
				Description: "Your ASN: the default local_asn of sessions. Env: " + EnvLocalASN + ".",
			},
			"token": schema.StringAttribute{
				Optional:    true,
				Sensitive:   true,
				Description: "A static bearer token for the peer's API (a JWT access token or a PeeringDB token). Env: " + EnvToken + ". Conflicts with oauth2.",
			},
			"request_timeout": schema.StringAttribute{
				Optional:    true,
				Description: "Time limit of one HTTP attempt, a Go duration such as 30s (default). Calls are retried on 429/5xx and lost answers.",
				Validators:  []validator.String{durationValidator{}},
			},
		},
		Blocks: map[string]schema.Block{
			"oauth2": schema.SingleNestedBlock{
				Description: "Get access tokens with the OAuth 2.0 client credentials grant instead of a static token; each is kept until shortly before it expires.",
				Attributes: map[string]schema.Attribute{
					"token_url": schema.StringAttribute{
						Optional:    true,
						Description: "The issuer's token endpoint (https; plain http only to a loopback address).",
					},
					"client_id":     schema.StringAttribute{Optional: true, Description: "The client id."},
					"client_secret": schema.StringAttribute{Optional: true, Sensitive: true, Description: "The client secret."},
					"resource": schema.StringAttribute{
						Optional: true,
						Description: "RFC 8707 resource indicator (the audience of the token). Default: the API URL being called, " +
							"so resources with their own api_url get a token meant for that API.",
					},
					"scope": schema.StringAttribute{Optional: true, Description: "Space-separated scopes to ask for."},
					"auth_method": schema.StringAttribute{
						Optional:    true,
						Description: "How the client authenticates at the token endpoint: client_secret_post (default, as peering-operator's issuer expects) or client_secret_basic.",
						Validators:  []validator.String{stringvalidator.OneOf("client_secret_post", "client_secret_basic")},
					},
				},
			},
		},
	}
}

func (p *peeringProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var config providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	data := &providerData{}

	switch {
	case config.APIURL.IsUnknown():
		data.apiURLUnknown = true
	case !config.APIURL.IsNull():
		data.apiURL = config.APIURL.ValueString()
	default:
		data.apiURL = os.Getenv(EnvAPIURL)
	}
	if data.apiURL != "" {
		if problem := checkAPIURL(data.apiURL); problem != "" {
			resp.Diagnostics.AddAttributeError(path.Root("api_url"), "Invalid api_url", fromEnvNote(config.APIURL, EnvAPIURL)+problem)
		}
		data.apiURL = strings.TrimRight(data.apiURL, "/")
	}

	switch {
	case config.LocalASN.IsUnknown():
		data.localASNUnknown = true
	case !config.LocalASN.IsNull():
		data.localASN = config.LocalASN.ValueInt64()
		if data.localASN < 1 || data.localASN > MaxASN {
			resp.Diagnostics.AddAttributeError(path.Root("local_asn"), "Invalid local_asn", fmt.Sprintf("%d is not an ASN: must be 1-%d", data.localASN, int64(MaxASN)))
		}
	default:
		if text := os.Getenv(EnvLocalASN); text != "" {
			asn, err := strconv.ParseInt(strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(text)), "AS"), 10, 64)
			if err != nil || asn < 1 || asn > MaxASN {
				resp.Diagnostics.AddAttributeError(path.Root("local_asn"), "Invalid local_asn", fmt.Sprintf("%s=%q is not an ASN: must be 1-%d", EnvLocalASN, text, int64(MaxASN)))
			}
			data.localASN = asn
		}
	}

	timeout := 30 * time.Second
	if !config.RequestTimeout.IsNull() && !config.RequestTimeout.IsUnknown() {
		timeout, _ = time.ParseDuration(config.RequestTimeout.ValueString())
	}
	httpClient := peeringapi.NewHTTPClient(timeout)

	var auth peeringapi.TokenSource
	token := ""
	if !config.Token.IsNull() && !config.Token.IsUnknown() {
		token = config.Token.ValueString()
	}
	if config.OAuth2 != nil {
		if !config.Token.IsNull() {
			resp.Diagnostics.AddAttributeError(path.Root("token"), "Conflicting authentication",
				"token and oauth2 are both set; give a static token or an oauth2 client, not both")
		}
		auth = configureOAuth2(config.OAuth2, httpClient, &resp.Diagnostics)
	} else {
		if config.Token.IsNull() {
			token = os.Getenv(EnvToken)
		}
		auth = peeringapi.StaticToken(token)
	}
	if resp.Diagnostics.HasError() {
		return
	}

	data.client = peeringapi.New(peeringapi.Options{
		Auth:           auth,
		HTTP:           httpClient,
		RequestTimeout: timeout,
		UserAgent:      fmt.Sprintf("terraform-provider-peering/%s (terraform %s)", p.version, req.TerraformVersion),
	})
	resp.ResourceData = data
	resp.DataSourceData = data
}

// configureOAuth2 checks the oauth2 block, naming each attribute, and builds its token source.
func configureOAuth2(m *oauth2Model, httpClient *http.Client, diags *diag.Diagnostics) peeringapi.TokenSource {
	at := func(name string) path.Path { return path.Root("oauth2").AtName(name) }
	required := map[string]types.String{"token_url": m.TokenURL, "client_id": m.ClientID, "client_secret": m.ClientSecret}
	for _, name := range []string{"token_url", "client_id", "client_secret"} {
		if required[name].IsNull() || (!required[name].IsUnknown() && required[name].ValueString() == "") {
			diags.AddAttributeError(at(name), "Missing oauth2."+name, "the oauth2 block needs token_url, client_id and client_secret for the client credentials grant")
		}
	}
	if !m.TokenURL.IsNull() && !m.TokenURL.IsUnknown() && m.TokenURL.ValueString() != "" {
		if problem := checkSecureURL(m.TokenURL.ValueString()); problem != "" {
			diags.AddAttributeError(at("token_url"), "Invalid oauth2.token_url", problem)
		}
	}
	if !m.Resource.IsNull() && !m.Resource.IsUnknown() {
		if u, err := url.Parse(m.Resource.ValueString()); err != nil || !u.IsAbs() || u.Fragment != "" {
			diags.AddAttributeError(at("resource"), "Invalid oauth2.resource",
				fmt.Sprintf("%q must be an absolute URI without a fragment (RFC 8707 §2), e.g. the peer's API URL", m.Resource.ValueString()))
		}
	}
	if diags.HasError() {
		return nil
	}
	return &peeringapi.ClientCredentials{
		TokenURL:     m.TokenURL.ValueString(),
		ClientID:     m.ClientID.ValueString(),
		ClientSecret: m.ClientSecret.ValueString(),
		Resource:     m.Resource.ValueString(),
		Scope:        m.Scope.ValueString(),
		AuthMethod:   m.AuthMethod.ValueString(),
		HTTP:         httpClient,
	}
}

// checkSecureURL refuses a URL a secret would cross the network over in clear text (as the project's
// secure-url.ts does): https, or plain http only to the loopback interface.
func checkSecureURL(text string) string {
	u, err := url.Parse(text)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Sprintf("%q must be an https URL", text)
	}
	if u.Scheme == "http" {
		host := u.Hostname()
		ip := net.ParseIP(host)
		if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Sprintf("%q must use https (plain http only to 127.0.0.1, [::1] or localhost): the client secret travels in it", text)
		}
	}
	return ""
}

func (p *peeringProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{NewSessionResource}
}

func (p *peeringProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{NewSessionDataSource, NewLocationsDataSource}
}

// checkAPIURL says what is wrong with an API base URL, or "".
func checkAPIURL(text string) string {
	const rule = "must be an http(s) URL, base path included, e.g. https://peering.example.net/v0.1"
	u, err := url.Parse(text)
	switch {
	case err != nil:
		return fmt.Sprintf("%q %s", text, rule)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Sprintf("%q %s (not %s:)", text, rule, u.Scheme)
	case u.Host == "":
		return fmt.Sprintf("%q has no host; it %s", text, rule)
	case u.User != nil:
		return fmt.Sprintf("%q carries credentials; give them as token or oauth2, never in the URL", redactUser(u))
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Sprintf("%q has a query or fragment; it %s", text, rule)
	}
	return ""
}

func redactUser(u *url.URL) string {
	c := *u
	c.User = url.User("REDACTED")
	return c.String()
}

// fromEnvNote says where a value came from when the provider block did not give it.
func fromEnvNote(v types.String, env string) string {
	if v.IsNull() {
		return "from " + env + ": "
	}
	return ""
}

// configuredData is the provider's data as the framework hands it to each resource and data source: nil before
// the provider is configured (validation runs first), an error diagnostic for anything else.
func configuredData(given any, diags *diag.Diagnostics) *providerData {
	if given == nil {
		return nil
	}
	data, ok := given.(*providerData)
	if !ok {
		diags.AddError("Unexpected provider data", fmt.Sprintf("got %T", given))
		return nil
	}
	return data
}
