package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// durationValidator accepts a Go duration above zero ("30s", "10m", "1h30m").
type durationValidator struct{}

func (durationValidator) Description(context.Context) string {
	return "must be a duration such as 30s, 10m or 1h30m"
}

func (v durationValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v durationValidator) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	d, err := time.ParseDuration(req.ConfigValue.ValueString())
	if err != nil || d <= 0 {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid duration",
			fmt.Sprintf("%s: %q %s", req.Path, req.ConfigValue.ValueString(), v.Description(ctx)))
	}
}

// apiURLValidator checks a Peering API base URL (http or https, a host, no credentials, query or fragment).
type apiURLValidator struct{}

func (apiURLValidator) Description(context.Context) string {
	return "must be an http(s) URL, base path included, e.g. https://peering.example.net/v0.1"
}

func (v apiURLValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (apiURLValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if problem := checkAPIURL(req.ConfigValue.ValueString()); problem != "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid api_url", req.Path.String()+": "+problem)
	}
}
