// Command subgraph-sdl prints the gateway's Apollo Federation v2 subgraph
// SDL: what Query._service { sdl } answers with GATEWAY_FEDERATION=true,
// for composing a supergraph without a running gateway
// (`make supergraph > directory.graphql`; see docs/services.md).
package main

import (
	"fmt"

	"github.com/groupdir/gateway/graph"
)

func main() { fmt.Print(graph.SubgraphSDL()) }
