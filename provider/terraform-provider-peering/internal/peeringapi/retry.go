package peeringapi

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryPolicy says when and how long a call waits before trying again. Pure functions over one attempt's
// outcome, so the rules are tested without sockets or real time.
type RetryPolicy struct {
	// Attempts per call, the first included, for failures other than rate limiting.
	Attempts int
	// BaseDelay is the backoff before the second attempt, doubled for each further one up to MaxDelay.
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// MaxRetryAfter: a Retry-After longer than this is not waited for; the call fails at once.
	MaxRetryAfter time.Duration
	// RateLimitedAttempts bounds the attempts of a call the server keeps rate limiting (429 with Retry-After):
	// a thousand sessions applied at once are expected to be slowed down, not failed.
	RateLimitedAttempts int
}

// DefaultRetryPolicy matches the project's own client (controller/src/client/retry.ts).
var DefaultRetryPolicy = RetryPolicy{
	Attempts:            4,
	BaseDelay:           250 * time.Millisecond,
	MaxDelay:            10 * time.Second,
	MaxRetryAfter:       60 * time.Second,
	RateLimitedAttempts: 30,
}

// retryable statuses: the server is overloaded or briefly broken (not 501: that will not change).
func retryableStatus(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// outcome of one attempt: status 0 means no answer (a network failure).
type outcome struct {
	status     int
	retryAfter time.Duration
	hasRetry   bool
}

// delay before the next attempt, or false when the call must end. `failures` counts the attempts that failed
// for other reasons than rate limiting, `limited` those answered 429 with a Retry-After. Only replayable
// calls are retried: GET, DELETE (a repeat finds the session gone: 404, which the caller reads as success),
// and POST with a client request_id (the server answers a repeat with what it recorded).
func (p RetryPolicy) delay(o outcome, failures, limited int, replayable bool, random func() float64) (time.Duration, bool) {
	if !replayable || (o.status != 0 && !retryableStatus(o.status)) {
		return 0, false
	}
	if o.hasRetry && (o.status == http.StatusTooManyRequests || o.status == http.StatusServiceUnavailable) {
		if o.retryAfter > p.MaxRetryAfter {
			return 0, false
		}
		if o.status == http.StatusTooManyRequests {
			if limited >= p.RateLimitedAttempts {
				return 0, false
			}
		} else if failures >= p.Attempts {
			return 0, false
		}
		// Retry-After is a floor; a little jitter spreads out the callers it released at once.
		return o.retryAfter + time.Duration(random()*float64(min(time.Second, p.BaseDelay))), true
	}
	if failures >= p.Attempts {
		return 0, false
	}
	// Exponential backoff with "equal jitter": half of the step, plus a random part of the other half.
	step := p.BaseDelay << (failures - 1)
	if step > p.MaxDelay || step <= 0 {
		step = p.MaxDelay
	}
	return step/2 + time.Duration(random()*float64(step/2)), true
}

// parseRetryAfter reads Retry-After as delta-seconds or an HTTP date (RFC 9110 §10.2.3).
func parseRetryAfter(value string, now time.Time) (time.Duration, bool) {
	text := strings.TrimSpace(value)
	if text == "" {
		return 0, false
	}
	if seconds, err := strconv.ParseUint(text, 10, 32); err == nil {
		return time.Duration(seconds) * time.Second, true
	}
	if when, err := http.ParseTime(text); err == nil {
		return max(0, when.Sub(now)), true
	}
	return 0, false
}

func defaultRandom() float64 { return rand.Float64() }
