package queuetest

import "testing"

// TestClusterPortHasBusPort: every node port leaves room for its cluster
// bus (port+10000 <= 65535), and no two nodes share a port or a bus port.
func TestClusterPortHasBusPort(t *testing.T) {
	used := map[int]bool{}
	for range 30 {
		p, err := clusterPort(used)
		if err != nil {
			t.Fatal(err)
		}
		if p+clusterBusOffset > 65535 || p < 1024 {
			t.Fatalf("port %d: its bus port %d cannot exist", p, p+clusterBusOffset)
		}
	}
	if len(used) != 60 {
		t.Fatalf("%d distinct ports for 30 nodes and their buses, want 60", len(used))
	}
}
