package provider

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/peering-operator/peering-operator/provider/terraform-provider-peering/internal/peeringapi"
	"github.com/peering-operator/peering-operator/provider/terraform-provider-peering/internal/session"
)

// addAPIError reports a failed call: one diagnostic per error item of the answer, on the attribute the item
// names (translated from the wire's reading, where `local_*` is the peer, to ours), with the peer's code and
// message; the status alone when the answer had no items.
func addAPIError(diags *diag.Diagnostics, doing string, err error) {
	var apiErr *peeringapi.APIError
	if !errors.As(err, &apiErr) {
		diags.AddError(doing, err.Error())
		return
	}
	where := fmt.Sprintf("%s %s", apiErr.Method, apiErr.URL)
	trace := ""
	if apiErr.TraceID != "" {
		trace = fmt.Sprintf(" The peer's X-Request-Id is %s, for its operators.", apiErr.TraceID)
	}
	if apiErr.Status == 0 {
		diags.AddError(doing+": the Peering API did not answer",
			fmt.Sprintf("%s got no answer after %d attempt(s): %v. Check api_url and that the peer's API is reachable.", where, apiErr.Attempts, apiErr.Cause))
		return
	}
	hint := statusHint(apiErr.Status)
	if len(apiErr.Items) == 0 {
		diags.AddError(fmt.Sprintf("%s: %s", doing, apiErr.Code()),
			fmt.Sprintf("%s answered %d %s.%s%s", where, apiErr.Status, http.StatusText(apiErr.Status), hint, trace))
		return
	}
	for _, item := range apiErr.Items {
		summary := fmt.Sprintf("%s: %s", doing, strings.ToUpper(item.Code))
		attribute, onAttribute := session.AttributeOfWireField(item.Name)
		detail := fmt.Sprintf("%s answered %d: %s", where, apiErr.Status, item.Text())
		if onAttribute {
			detail += fmt.Sprintf("\n\nThe peer names the field %q in its own reading (local_* is the peer); in this resource that is %s.", item.Name, attribute)
		} else {
			detail += fmt.Sprintf(" (on %s)", item.Name)
		}
		detail += hint + trace
		if onAttribute {
			diags.AddAttributeError(path.Root(attribute), summary, detail)
		} else {
			diags.AddError(summary, detail)
		}
	}
}

func statusHint(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return " The peer did not accept the credentials: check token (or PEERING_API_TOKEN) or the oauth2 block, and that the token is meant for this API."
	case http.StatusForbidden:
		return " The credentials do not hold local_asn with the permission needed to manage its peering sessions."
	case http.StatusTooManyRequests:
		return " The peer kept rate limiting the calls; apply again later, or with a lower -parallelism."
	}
	return ""
}

// addOtherTermsError explains SESSION_EXISTS_WITH_OTHER_TERMS: the peer has a session with this natural key
// whose terms differ, and it was left as it is. Every differing attribute is listed, with both values.
func addOtherTermsError(diags *diag.Diagnostics, key session.Key, sessionID string, differences []session.Difference, peerMessage string) {
	var lines []string
	for _, d := range differences {
		lines = append(lines, "  - "+d.String())
	}
	where := "a session"
	if sessionID != "" {
		where = "session " + sessionID
	}
	detail := fmt.Sprintf("The peer already has %s for %s, with other terms:\n%s\n\n"+
		"It was left as it is: the terms of a session cannot be changed in place. Either write the terms the peer has "+
		"(and `terraform import` the session), or remove the session at the peer first.",
		where, key, strings.Join(lines, "\n"))
	if peerMessage != "" {
		detail += "\n\nThe peer said: " + peerMessage
	}
	first := "peer_ip"
	if len(differences) > 0 {
		first = differences[0].Attribute
	}
	names := make([]string, len(differences))
	for i, d := range differences {
		names[i] = d.Attribute
	}
	diags.AddAttributeError(path.Root(first),
		fmt.Sprintf("Session exists with other terms: %s (SESSION_EXISTS_WITH_OTHER_TERMS)", strings.Join(names, ", ")), detail)
}
