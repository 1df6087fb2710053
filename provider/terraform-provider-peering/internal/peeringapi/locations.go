package peeringapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// Location is one entry of GET /locations (docs/api.md §10), in the server's reading: ASN and LocalIPs are the
// server's network, the peer's.
type Location struct {
	ID       string   `json:"id"`
	Type     string   `json:"type"`
	ASN      int64    `json:"asn"`
	Name     string   `json:"name,omitempty"`
	LocalIPs []string `json:"local_ips,omitempty"`
}

type locationPage struct {
	Locations []Location `json:"locations"`
	NextToken string     `json:"next_token,omitempty"`
}

// ListLocations reads every page of the peer's locations, filtered by its ASN (0: all) and type ("": both).
func (a *API) ListLocations(ctx context.Context, asn int64, locationType string) ([]Location, error) {
	var all []Location
	token := ""
	for {
		query := url.Values{"max_results": {"100"}}
		if asn != 0 {
			query.Set("asn", strconv.FormatInt(asn, 10))
		}
		if locationType != "" {
			query.Set("location_type", locationType)
		}
		if token != "" {
			query.Set("next_token", token)
		}
		var page locationPage
		if err := a.do(ctx, call{method: http.MethodGet, path: "/locations", query: query, replayable: true, want: []int{http.StatusOK}}, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Locations...)
		if page.NextToken == "" || page.NextToken == token {
			return all, nil
		}
		token = page.NextToken
	}
}
