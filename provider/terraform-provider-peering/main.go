// terraform-provider-peering serves the `peering-operator/peering` Terraform provider: IETF Peering API
// sessions as Terraform resources (see README.md).
package main

import (
	"context"
	"flag"
	"log"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/peering-operator/peering-operator/provider/terraform-provider-peering/internal/provider"
)

// version is set at build time (-ldflags "-X main.version=..."); scripts/setup.d/41-terraform-peering.sh
// builds 0.1.0.
var version = "0.1.0"

// Address is the provider's source address, as Terraform configurations name it.
const Address = "registry.terraform.io/peering-operator/peering"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run with support for debuggers like delve (prints TF_REATTACH_PROVIDERS)")
	flag.Parse()
	if !debug {
		silenceUnreadLogs()
	}
	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: Address,
		Debug:   debug,
	})
	if err != nil {
		log.Fatal(err)
	}
}

// silenceUnreadLogs turns the plugin SDK's logging off when Terraform will throw it away. The SDK writes every
// log line, at TRACE, as JSON to Terraform unless told otherwise, and Terraform shows provider logs only when
// TF_LOG or TF_LOG_PROVIDER is set: writing lines nobody reads was a third of the provider's CPU time in a
// 678-session apply. With either variable set (or any of the SDK's own), nothing changes.
func silenceUnreadLogs() {
	for _, name := range []string{"TF_LOG", "TF_LOG_PROVIDER", "TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK"} {
		if os.Getenv(name) != "" {
			return
		}
	}
	_ = os.Setenv("TF_LOG_SDK", "OFF")
	_ = os.Setenv("TF_LOG_PROVIDER", "OFF")
}
