// Runs the Argo CD health checks of argocd/resource_customizations in the Lua VM Argo CD itself uses
// (gopher-lua, set up as Argo CD's util/lua sets it up), on the samples of each health_test.yaml.
module peering-operator/test-support/lua

go 1.24

require (
	github.com/yuin/gopher-lua v1.1.2
	layeh.com/gopher-json v0.0.0-20201124131017-552bb3c4c3bf
	sigs.k8s.io/yaml v1.6.0
)

require go.yaml.in/yaml/v2 v2.4.2 // indirect
