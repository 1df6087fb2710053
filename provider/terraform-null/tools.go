//go:build tools

// Package terraformnull pins the modules that build hashicorp/null for the offline Terraform tests: the only
// version of terraform-provider-null on the Go module proxy is v1.0.0, whose code needs the plugin SDK that
// lived inside github.com/hashicorp/terraform until v0.12 (v0.12.29 serves plugin protocol 5, which Terraform
// 1.x still speaks). scripts/setup.d/40-terraform-null.sh builds it into a filesystem mirror.
package terraformnull

import _ "github.com/hashicorp/terraform-provider-null"
