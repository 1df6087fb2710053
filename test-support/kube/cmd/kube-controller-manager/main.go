// Command kube-controller-manager is the upstream controller manager,
// unmodified, built from the pinned k8s.io/kubernetes release. The harness
// starts it only when a test asks for it (startControlPlane's
// controllerManager option), with a few controllers; see README.md.
// The body mirrors k8s.io/kubernetes/cmd/kube-controller-manager/controller-manager.go,
// which cannot be imported because it is package main.
package main

import (
	"os"
	_ "time/tzdata" // CronJob time zones, as upstream links it

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // --logging-format=json
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics on /metrics
	_ "k8s.io/component-base/metrics/prometheus/version"  // kubernetes_build_info
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	os.Exit(cli.Run(app.NewControllerManagerCommand()))
}
