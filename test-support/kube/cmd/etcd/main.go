// Command etcd is the upstream etcd server, unmodified, built from the same
// module graph as kube-apiserver so the two agree on the etcd API version.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
