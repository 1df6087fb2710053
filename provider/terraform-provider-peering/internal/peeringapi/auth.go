package peeringapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// TokenSource hands out the bearer token for calls to one API (identified by its base URL).
type TokenSource interface {
	Token(ctx context.Context, apiURL string) (string, error)
	// Invalidate drops a cached token the API refused (401), so the next call gets a fresh one.
	Invalidate(apiURL string)
}

// AuthError is a failure to get a token: no call to the API was made.
type AuthError struct {
	Err error
}

func (e *AuthError) Error() string { return "no access token for the Peering API: " + e.Err.Error() }
func (e *AuthError) Unwrap() error { return e.Err }

// StaticToken is a token given in the configuration; empty means no Authorization header.
type StaticToken string

func (t StaticToken) Token(context.Context, string) (string, error) { return string(t), nil }
func (StaticToken) Invalidate(string)                               {}
func (StaticToken) String() string                                  { return "(sensitive)" }

// ClientCredentials gets access tokens with the OAuth 2.0 client credentials grant (RFC 6749 §4.4), one per
// resource indicator (RFC 8707), and keeps each until shortly before it expires: a thousand sessions make
// one token request, not a thousand.
type ClientCredentials struct {
	TokenURL     string
	ClientID     string
	ClientSecret string
	// Resource is the RFC 8707 resource indicator; empty means "the API being called", so one provider can
	// call many networks' APIs, each with a token meant for it.
	Resource string
	Scope    string
	// AuthMethod is how the client authenticates: "client_secret_post" (the secret in the form, as
	// peering-operator's own issuer and client do) or "client_secret_basic" (HTTP Basic, RFC 6749 §2.3.1).
	AuthMethod string

	HTTP *http.Client
	Now  func() time.Time

	mu    sync.Mutex
	cache map[string]cachedToken
}

type cachedToken struct {
	value   string
	refresh time.Time
}

// lifetimeWhenUnsaid is how long a token that came without expires_in is kept.
const lifetimeWhenUnsaid = 5 * time.Minute

func (c *ClientCredentials) String() string {
	return fmt.Sprintf("oauth2 client %s at %s (secret hidden)", c.ClientID, c.TokenURL)
}

func (c *ClientCredentials) resourceFor(apiURL string) string {
	if c.Resource != "" {
		return c.Resource
	}
	return apiURL
}

func (c *ClientCredentials) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Token returns a cached token for the API's resource, or asks the issuer for one. Concurrent callers wait
// for one request instead of each making their own.
func (c *ClientCredentials) Token(ctx context.Context, apiURL string) (string, error) {
	resource := c.resourceFor(apiURL)
	c.mu.Lock()
	defer c.mu.Unlock()
	if cached, ok := c.cache[resource]; ok && c.now().Before(cached.refresh) {
		return cached.value, nil
	}
	token, lifetime, err := c.request(ctx, resource)
	if err != nil {
		return "", err
	}
	// Renew before expiry: a token must not run out between being handed out and being checked.
	margin := min(time.Minute, lifetime/5)
	if c.cache == nil {
		c.cache = map[string]cachedToken{}
	}
	c.cache[resource] = cachedToken{value: token, refresh: c.now().Add(lifetime - margin)}
	return token, nil
}

func (c *ClientCredentials) Invalidate(apiURL string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.cache, c.resourceFor(apiURL))
}

type tokenAnswer struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        *int64 `json:"expires_in"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

func (c *ClientCredentials) request(ctx context.Context, resource string) (string, time.Duration, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if resource != "" {
		form.Set("resource", resource)
	}
	if c.Scope != "" {
		form.Set("scope", c.Scope)
	}
	basic := c.AuthMethod == "client_secret_basic"
	if !basic {
		form.Set("client_id", c.ClientID)
		form.Set("client_secret", c.ClientSecret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, fmt.Errorf("oauth2.token_url %s: %w", c.TokenURL, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if basic {
		// RFC 6749 §2.3.1: both parts form-url-encoded before Basic encoding.
		req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret))
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("cannot reach the token endpoint oauth2.token_url %s: %w", c.TokenURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", 0, fmt.Errorf("token endpoint %s: reading the answer: %w", c.TokenURL, err)
	}
	var answer tokenAnswer
	decodeErr := json.Unmarshal(body, &answer)
	if resp.StatusCode != http.StatusOK || answer.AccessToken == "" {
		if answer.Error != "" {
			detail := answer.Error
			if answer.ErrorDescription != "" {
				detail += ": " + answer.ErrorDescription
			}
			return "", 0, fmt.Errorf("the token endpoint %s refused client %q (HTTP %d, %s); check oauth2.client_id, oauth2.client_secret, oauth2.resource and oauth2.scope",
				c.TokenURL, c.ClientID, resp.StatusCode, detail)
		}
		if decodeErr != nil {
			return "", 0, fmt.Errorf("the token endpoint %s answered HTTP %d without a JSON token", c.TokenURL, resp.StatusCode)
		}
		return "", 0, fmt.Errorf("the token endpoint %s answered HTTP %d without an access_token", c.TokenURL, resp.StatusCode)
	}
	if answer.TokenType != "" && !strings.EqualFold(answer.TokenType, "bearer") {
		return "", 0, fmt.Errorf("the token endpoint %s issued a %q token; the Peering API takes bearer tokens", c.TokenURL, answer.TokenType)
	}
	lifetime := lifetimeWhenUnsaid
	if answer.ExpiresIn != nil && *answer.ExpiresIn > 0 {
		lifetime = time.Duration(*answer.ExpiresIn) * time.Second
	}
	return answer.AccessToken, lifetime, nil
}
