package peeringapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// FieldError is one item of an error answer (docs/api.md §11): the field path in the server's wire reading,
// the messages and the catalog code. Other servers write `messages`; both are read.
type FieldError struct {
	Name     string   `json:"name"`
	Errors   []string `json:"errors"`
	Messages []string `json:"messages,omitempty"`
	Code     string   `json:"code"`
}

// Text is the item's messages joined.
func (f FieldError) Text() string {
	all := append(append([]string{}, f.Errors...), f.Messages...)
	if len(all) == 0 {
		return "(no message)"
	}
	return strings.Join(all, "; ")
}

type errorBody struct {
	Errors []FieldError `json:"errors"`
}

// APIError is a call that did not succeed: the remote answered an error status, or no answer came.
type APIError struct {
	Method string
	URL    string
	// Status is the HTTP status, 0 when no answer came (network failure, timeout).
	Status int
	// Items are the error items of the answer, in the server's wire reading.
	Items []FieldError
	// TraceID is the answer's X-Request-Id, for the peer's operators.
	TraceID  string
	Attempts int
	// Cause is the transport failure when no answer came.
	Cause error
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: ", e.Method, e.URL)
	if e.Status == 0 {
		fmt.Fprintf(&b, "no answer")
		if e.Cause != nil {
			fmt.Fprintf(&b, " (%v)", e.Cause)
		}
	} else {
		fmt.Fprintf(&b, "%d %s", e.Status, http.StatusText(e.Status))
		for _, item := range e.Items {
			fmt.Fprintf(&b, "; %s %s: %s", item.Code, item.Name, item.Text())
		}
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	if e.TraceID != "" {
		fmt.Fprintf(&b, " [X-Request-Id %s]", e.TraceID)
	}
	return b.String()
}

func (e *APIError) Unwrap() error { return e.Cause }

// Code is the catalog code of the failure: the first item's, else one for the status.
func (e *APIError) Code() string {
	for _, item := range e.Items {
		if item.Code != "" {
			return strings.ToUpper(item.Code)
		}
	}
	return codeForStatus(e.Status)
}

// NotFound reports a 404: the session does not exist, or is not visible to us (docs/api.md §8).
func (e *APIError) NotFound() bool { return e.Status == http.StatusNotFound }

// Has reports whether an item carries the code.
func (e *APIError) Has(code string) bool {
	for _, item := range e.Items {
		if strings.EqualFold(item.Code, code) {
			return true
		}
	}
	return false
}

// decodeErrorItems reads the error items of a body, tolerating bodies that are not the catalog's shape (a
// proxy's HTML page): those yield no items and the status speaks alone.
func decodeErrorItems(body []byte) []FieldError {
	var decoded errorBody
	if err := json.Unmarshal(body, &decoded); err != nil {
		return nil
	}
	items := decoded.Errors[:0]
	for _, item := range decoded.Errors {
		if item.Name == "" {
			item.Name = "request"
		}
		items = append(items, item)
	}
	return items
}

// codeForStatus is the catalog code (docs/api.md, error catalog) for a status that came without one.
func codeForStatus(status int) string {
	switch status {
	case 0:
		return "REMOTE_UNAVAILABLE"
	case 401:
		return "UNAUTHENTICATED"
	case 403:
		return "FORBIDDEN_ASN"
	case 404:
		return "NOT_FOUND"
	case 405:
		return "METHOD_NOT_ALLOWED"
	case 406:
		return "NOT_ACCEPTABLE"
	case 413:
		return "BODY_TOO_LARGE"
	case 415:
		return "UNSUPPORTED_MEDIA_TYPE"
	case 422:
		return "HUMAN_INTERVENTION_REQUIRED"
	case 429:
		return "RATE_LIMITED"
	case 504:
		return "TIMEOUT"
	}
	if status >= 500 {
		return "REMOTE_UNAVAILABLE"
	}
	return "INVALID_FIELD"
}
