package session

import "strings"

// The status vocabulary (docs/api.md §5), lower case on the wire.
const (
	StatusPending       = "pending"
	StatusApproved      = "approved"
	StatusRejected      = "rejected"
	StatusConfigured    = "configured"
	StatusEstablished   = "established"
	StatusDown          = "down"
	StatusUnestablished = "unestablished"
)

var statuses = map[string]bool{
	StatusPending: true, StatusApproved: true, StatusRejected: true, StatusConfigured: true,
	StatusEstablished: true, StatusDown: true, StatusUnestablished: true,
}

// WaitableStatuses are the statuses `wait_for_status` may name: the steps of a session that goes well.
var WaitableStatuses = []string{StatusApproved, StatusConfigured, StatusEstablished}

// progress orders the steps of a session that goes well.
var progress = map[string]int{StatusPending: 0, StatusApproved: 1, StatusConfigured: 2, StatusEstablished: 3}

// Status reads a status word case-insensitively (docs/api.md §5): a word of the vocabulary in lower case, an
// unknown word as the server wrote it.
func Status(word string) string {
	if lower := strings.ToLower(word); statuses[lower] {
		return lower
	}
	return word
}

// Failed reports whether a session in this status will never reach a waited-for one: the peer refused it, or
// it was not established in time and left the router (unestablished).
func Failed(status string) bool {
	s := Status(status)
	return s == StatusRejected || s == StatusUnestablished
}

// Reached reports whether a session in `status` is at or past the step `want`. `down` means it was
// established and is not now: past approved and configured, but not established.
func Reached(status, want string) bool {
	s := Status(status)
	if s == StatusDown {
		return want != StatusEstablished
	}
	have, known := progress[s]
	return known && have >= progress[want]
}
