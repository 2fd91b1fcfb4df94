// Command etcd is etcd's own server entrypoint, built from go.etcd.io/etcd/server/v3 so the
// project's local control plane needs nothing but the Go module proxy.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
