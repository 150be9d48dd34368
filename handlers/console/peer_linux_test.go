package console

import (
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestSocketUID reads a socket's user from a /proc/net/tcp table, as Linux
// writes it on a little-endian machine.
func TestSocketUID(t *testing.T) {
	table := []byte(`  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 111 1 0000000000000000 100 0 0 10 0
   1: 0100007F:D431 0100007F:1F90 01 00000000:00000000 00:00000000 00000000 65534        0 222 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 333 1 0000000000000000 20 4 30 10 -1
`)
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 0xD431}
	remote := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 0x1F90}
	if uid, ok := socketUID(table, local, remote); !ok || uid != 65534 {
		t.Fatalf("the client's socket: uid %d, %v; want 65534", uid, ok)
	}
	if uid, ok := socketUID(table, remote, local); !ok || uid != 1000 {
		t.Fatalf("the server's socket: uid %d, %v; want 1000", uid, ok)
	}
	if _, ok := socketUID(table, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 0xD431}, remote); ok {
		t.Fatal("another address matched")
	}
	v6 := []byte("header\n   0: 00000000000000000000000001000000:D431 00000000000000000000000001000000:1F90 01 0:0 0:0 0 42 0 1\n")
	if uid, ok := socketUID(v6, &net.TCPAddr{IP: net.IPv6loopback, Port: 0xD431}, &net.TCPAddr{IP: net.IPv6loopback, Port: 0x1F90}); !ok || uid != 42 {
		t.Fatalf("::1: uid %d, %v; want 42", uid, ok)
	}
	for _, junk := range []string{"", "header\n", "header\n 0: zz:zz yy:yy 01 0 0 0 x\n", "header\n 0: 0100007F 0100007F:1F90 01 0 0 0 7\n"} {
		if _, ok := socketUID([]byte(junk), local, remote); ok {
			t.Errorf("%q matched", junk)
		}
	}
}

// TestConsoleRefusesOtherUsers: the console answers this user's programs;
// another user of the machine who read the one-time URL in the browser's
// command line gets no answer. (Connecting as another user needs root.)
func TestConsoleRefusesOtherUsers(t *testing.T) {
	l, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("hello"))
			c.Close()
		}
	}()
	addr := l.Addr().String()
	// This user: answered.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if b, _ := io.ReadAll(c); string(b) != "hello" {
		t.Fatalf("this user's connection: %q", b)
	}
	c.Close()
	if os.Getuid() != 0 {
		t.Log("not root: the other user's connection is not tried")
		return
	}
	// nobody, through a child process of its own.
	if os.Getenv("HOTLINE_PEER_DIAL") != "" {
		return
	}
	// A copy of this test binary that nobody may run.
	dir, err := os.MkdirTemp("", "hotline-peer")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	bin, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	exe := dir + "/console.test"
	if err := os.WriteFile(exe, bin, 0o755); err != nil || os.Chmod(dir, 0o755) != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestPeerDial$")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOTLINE_PEER_DIAL="+addr)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("nobody's dial: %v\n%s", err, out)
	}
	if got := string(out); !contains(got, "answered: \"\"") {
		t.Fatalf("another user's connection was answered:\n%s", got)
	}
}

// TestPeerDial is TestConsoleRefusesOtherUsers's child: it dials the
// console and prints what it answered.
func TestPeerDial(t *testing.T) {
	addr := os.Getenv("HOTLINE_PEER_DIAL")
	if addr == "" {
		return
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(3 * time.Second))
	b, _ := io.ReadAll(c)
	t.Logf("uid %s answered: %q", strconv.Itoa(os.Getuid()), b)
	os.Stdout.WriteString("answered: " + strconv.Quote(string(b)) + "\n")
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
