package console

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"net"
	"os"
	"strconv"
	"strings"
)

// peerUID is the user of the program at the other end of c, a loopback
// connection: its socket's line in /proc/net/tcp (or tcp6), whose local
// address is c's remote one and remote address c's local one.
func peerUID(c net.Conn) (int, error) {
	peer, ok1 := c.RemoteAddr().(*net.TCPAddr)
	self, ok2 := c.LocalAddr().(*net.TCPAddr)
	if !ok1 || !ok2 {
		return 0, errNoPeer
	}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		if uid, ok := socketUID(b, peer, self); ok {
			return uid, nil
		}
	}
	return 0, errNoPeer
}

// socketUID finds in a /proc/net/tcp table the socket from local to remote
// and returns its user.
func socketUID(table []byte, local, remote *net.TCPAddr) (int, bool) {
	sc := bufio.NewScanner(bytes.NewReader(table))
	sc.Scan() // the header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 8 {
			continue
		}
		if !sameAddr(f[1], local) || !sameAddr(f[2], remote) {
			continue
		}
		uid, err := strconv.Atoi(f[7])
		return uid, err == nil
	}
	return 0, false
}

// sameAddr reports whether a table's "IP:PORT" (hex; the IP in 32-bit
// words of the host's order) is a.
func sameAddr(field string, a *net.TCPAddr) bool {
	ipHex, portHex, ok := strings.Cut(field, ":")
	if !ok {
		return false
	}
	port, err := strconv.ParseUint(portHex, 16, 16)
	if err != nil || int(port) != a.Port {
		return false
	}
	if len(ipHex) != 8 && len(ipHex) != 32 {
		return false
	}
	// Each word is the address's bytes read as a number of the host's
	// order: written back the same way, they are the address.
	raw := make([]byte, len(ipHex)/2)
	for i := 0; i < len(ipHex); i += 8 {
		w, err := strconv.ParseUint(ipHex[i:i+8], 16, 32)
		if err != nil {
			return false
		}
		binary.NativeEndian.PutUint32(raw[i/2:], uint32(w))
	}
	return net.IP(raw).Equal(a.IP)
}
