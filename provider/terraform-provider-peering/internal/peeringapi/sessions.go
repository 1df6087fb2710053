package peeringapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/peering-operator/peering-operator/provider/terraform-provider-peering/internal/session"
)

// SessionRequest is a POST /sessions body (docs/api.md §6).
type SessionRequest struct {
	RequestID string                     `json:"request_id,omitempty"`
	Sessions  []session.WireSessionInput `json:"sessions"`
}

// RequestAnswer is the answer to POST /sessions: accepted sessions and error items, disjoint.
type RequestAnswer struct {
	RequestID string                `json:"request_id"`
	Sessions  []session.WireSession `json:"sessions"`
	Errors    []FieldError          `json:"errors"`
}

// RequestSessions asks the peer for sessions. A request that no session of can be accepted is a 400 whose
// items name the fields (an *APIError); with a RequestID it is safe to retry.
func (a *API) RequestSessions(ctx context.Context, request SessionRequest) (*RequestAnswer, error) {
	var answer RequestAnswer
	err := a.do(ctx, call{method: http.MethodPost, path: "/sessions", body: request, replayable: request.RequestID != "", want: []int{http.StatusOK}}, &answer)
	if err != nil {
		return nil, err
	}
	return &answer, nil
}

// GetSession reads one session; a 404 (gone, or not ours) is an *APIError with NotFound().
func (a *API) GetSession(ctx context.Context, id string) (*session.WireSession, error) {
	var s session.WireSession
	if err := a.do(ctx, call{method: http.MethodGet, path: "/sessions/" + url.PathEscape(id), replayable: true, want: []int{http.StatusOK}}, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// DeleteSession de-peers one session (204). A 404 is returned as such; the caller decides that gone is done.
func (a *API) DeleteSession(ctx context.Context, id string) error {
	return a.do(ctx, call{method: http.MethodDelete, path: "/sessions/" + url.PathEscape(id), replayable: true, want: []int{http.StatusNoContent, http.StatusOK}}, nil)
}

// SessionPage is one page of GET /sessions.
type SessionPage struct {
	Sessions  []session.WireSession `json:"sessions"`
	NextToken string                `json:"next_token,omitempty"`
}

// ListSessions reads one page of our sessions of one ASN (asn 0: all we hold).
func (a *API) ListSessions(ctx context.Context, asn int64, nextToken string) (*SessionPage, error) {
	query := url.Values{"max_results": {"100"}}
	if asn != 0 {
		query.Set("asn", strconv.FormatInt(asn, 10))
	}
	if nextToken != "" {
		query.Set("next_token", nextToken)
	}
	var page SessionPage
	if err := a.do(ctx, call{method: http.MethodGet, path: "/sessions", query: query, replayable: true, want: []int{http.StatusOK}}, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// FindSession pages through our sessions of key.LocalASN until one has the natural key: the one list
// operation of the provider, for `terraform import` by natural key. Nil when there is none.
func (a *API) FindSession(ctx context.Context, key session.Key) (*session.WireSession, *session.Terms, error) {
	token := ""
	for {
		page, err := a.ListSessions(ctx, key.LocalASN, token)
		if err != nil {
			return nil, nil, err
		}
		for i := range page.Sessions {
			terms, err := session.FromWire(page.Sessions[i], key.LocalASN)
			if err != nil {
				continue
			}
			if key.Of(terms) {
				return &page.Sessions[i], &terms, nil
			}
		}
		if page.NextToken == "" || page.NextToken == token {
			return nil, nil, nil
		}
		token = page.NextToken
	}
}
