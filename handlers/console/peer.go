package console

import (
	"errors"
	"net"
	"os"
)

// ownUser is a listener that accepts only connections from this user's own
// programs, where the system can tell (Linux: peerUID): the one-time URL
// is passed to the browser on its command line, which other users of the
// machine can read (/proc/PID/cmdline), and the console shows decrypted
// reports. Elsewhere every local connection is accepted, as before.
type ownUser struct {
	net.Listener
	uid int
}

func ownUserListener(l net.Listener) net.Listener { return ownUser{Listener: l, uid: os.Getuid()} }

// Accept returns the next connection of this user's programs; another
// user's, or one whose user cannot be found, is closed unanswered.
func (l ownUser) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		uid, err := peerUID(c)
		if errors.Is(err, errUnsupported) || err == nil && uid == l.uid {
			return c, nil
		}
		c.Close()
	}
}

// errUnsupported: this system does not tell a connection's user.
var errUnsupported = errors.New("a connection's user cannot be told here")

// errNoPeer: the connection is in no socket table (closed meanwhile).
var errNoPeer = errors.New("the connection's socket was not found")
