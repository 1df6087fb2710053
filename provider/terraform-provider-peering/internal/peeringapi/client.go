// Package peeringapi calls a network's Peering API (draft-ramseyer-grow-peering-api as docs/api.md fixes its
// wire): one keep-alive HTTP client shared by every resource of a provider instance, retries for overload
// (429/503 with Retry-After, 5xx, lost answers) on calls that may be repeated, and error answers decoded into
// their items so the provider can name the attribute each one is about.
package peeringapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// Options of a Client.
type Options struct {
	Auth TokenSource
	// UserAgent names the provider and Terraform's version in the peer's logs.
	UserAgent string
	// RequestTimeout bounds one attempt (connect, send, answer); default 30 s.
	RequestTimeout time.Duration
	Retry          *RetryPolicy
	// HTTP replaces the transport (tests); nil builds the shared keep-alive one.
	HTTP *http.Client
	// Sleep replaces waiting between attempts (tests).
	Sleep func(context.Context, time.Duration) error
}

// Client talks to any number of Peering APIs with one connection pool and one set of credentials.
type Client struct {
	http      *http.Client
	auth      TokenSource
	userAgent string
	retry     RetryPolicy
	sleep     func(context.Context, time.Duration) error
	random    func() float64
}

// NewHTTPClient is the keep-alive HTTP client a provider instance shares: enough idle connections per host
// that Terraform's parallel operations (10 by default, more with -parallelism) reuse theirs instead of opening
// a connection per call.
func NewHTTPClient(timeout time.Duration) *http.Client {
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Transport: transport, Timeout: timeout}
}

// New builds a client.
func New(o Options) *Client {
	timeout := o.RequestTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	c := &Client{http: o.HTTP, auth: o.Auth, userAgent: o.UserAgent, retry: DefaultRetryPolicy, sleep: o.Sleep, random: defaultRandom}
	if c.http == nil {
		c.http = NewHTTPClient(timeout)
	}
	if c.auth == nil {
		c.auth = StaticToken("")
	}
	if o.Retry != nil {
		c.retry = *o.Retry
	}
	if c.sleep == nil {
		c.sleep = sleepContext
	}
	if c.userAgent == "" {
		c.userAgent = "terraform-provider-peering"
	}
	return c
}

// API is one network's Peering API: its base URL (base path included) through a shared client.
type API struct {
	client *Client
	base   string
}

// At is the API at baseURL, e.g. https://peering.example.net/v0.1.
func (c *Client) At(baseURL string) *API {
	return &API{client: c, base: strings.TrimRight(baseURL, "/")}
}

// BaseURL of the API, without a trailing slash.
func (a *API) BaseURL() string { return a.base }

// call is one logical call, maybe several attempts.
type call struct {
	method string
	path   string
	query  url.Values
	body   any
	// replayable calls may be sent again after a failure (see RetryPolicy.delay).
	replayable bool
	// want lists the success statuses.
	want []int
}

// do sends the call and decodes a successful answer into out (nil: the body is dropped). Any other answer is
// an *APIError.
func (a *API) do(ctx context.Context, c call, out any) error {
	target := a.base + c.path
	if len(c.query) > 0 {
		target += "?" + c.query.Encode()
	}
	var payload []byte
	if c.body != nil {
		var err error
		if payload, err = json.Marshal(c.body); err != nil {
			return fmt.Errorf("encoding the %s %s body: %w", c.method, target, err)
		}
	}
	traceID := newTraceID()
	failures, limited, refreshedToken := 0, 0, false
	for attempt := 1; ; attempt++ {
		started := time.Now()
		status, header, body, err := a.attempt(ctx, c.method, target, payload, traceID)
		var authErr *AuthError
		if errors.As(err, &authErr) {
			// No call was made: a token the issuer refuses is not the peer's fault, nor worth retrying.
			return authErr
		}
		tflog.Debug(ctx, "Peering API call", map[string]any{
			"method": c.method, "url": target, "status": status, "attempt": attempt,
			"duration_ms": time.Since(started).Milliseconds(), "x_request_id": traceID,
		})
		if err == nil && contains(c.want, status) {
			if out == nil || len(body) == 0 {
				return nil
			}
			if err := json.Unmarshal(body, out); err != nil {
				return &APIError{Method: c.method, URL: target, Status: status, Attempts: attempt, TraceID: header.Get("X-Request-Id"),
					Cause: fmt.Errorf("the answer is not the API's JSON: %w", err),
					Items: []FieldError{{Name: "request", Code: "REMOTE_PROTOCOL", Errors: []string{"the answer is not the API's JSON: " + err.Error()}}}}
			}
			return nil
		}
		if ctx.Err() != nil {
			return &APIError{Method: c.method, URL: target, Attempts: attempt, Cause: ctx.Err()}
		}
		failure := &APIError{Method: c.method, URL: target, Status: status, Attempts: attempt, Cause: err}
		o := outcome{status: status}
		if err == nil {
			failure.Items = decodeErrorItems(body)
			failure.TraceID = header.Get("X-Request-Id")
			o.retryAfter, o.hasRetry = parseRetryAfter(header.Get("Retry-After"), time.Now())
		}
		// A token the API refuses may have been revoked or signed with a retired key: one fresh token, once
		// (a static token stays what it is).
		if _, static := a.client.auth.(StaticToken); status == http.StatusUnauthorized && !refreshedToken && !static {
			a.client.auth.Invalidate(a.base)
			refreshedToken = true
			continue
		}
		if status == http.StatusTooManyRequests && o.hasRetry {
			limited++
		} else {
			failures++
		}
		wait, again := a.client.retry.delay(o, failures, limited, c.replayable, a.client.random)
		if !again {
			return failure
		}
		tflog.Debug(ctx, "Peering API call will be retried", map[string]any{"url": target, "status": status, "wait_ms": wait.Milliseconds()})
		if err := a.client.sleep(ctx, wait); err != nil {
			return failure
		}
	}
}

// attempt sends one request and reads the whole answer, so the connection goes back to the pool.
func (a *API) attempt(ctx context.Context, method, target string, payload []byte, traceID string) (int, http.Header, []byte, error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", a.client.userAgent)
	req.Header.Set("X-Request-Id", traceID)
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	token, err := a.client.auth.Token(ctx, a.base)
	if err != nil {
		return 0, nil, nil, &AuthError{Err: err}
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.client.http.Do(req)
	if err != nil {
		return 0, nil, nil, scrubURLError(err)
	}
	defer resp.Body.Close()
	// Bounded: an answer is a few kilobytes; a page of 100 sessions about 40 KiB.
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return 0, nil, nil, err
	}
	return resp.StatusCode, resp.Header, answer, nil
}

// scrubURLError keeps the reason of a transport failure; the URL is in the APIError already.
func scrubURLError(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}
	return err
}

func contains(list []int, value int) bool {
	for _, v := range list {
		if v == value {
			return true
		}
	}
	return false
}

// newTraceID is the X-Request-Id of one logical call (kept across its attempts), so the peer's logs show a
// retry as one call.
func newTraceID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "tf-" + hex.EncodeToString(b[:])
}

func sleepContext(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
