//go:build !linux

package console

import "net"

// peerUID cannot tell a connection's user on this system.
func peerUID(net.Conn) (int, error) { return 0, errUnsupported }
