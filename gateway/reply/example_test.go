package reply_test

import (
	"fmt"

	"golang.org/x/text/language"

	"github.com/hotline-org/hotline/gateway/reply"
)

func ExampleCatalog_AckFor() {
	c, err := reply.NewCatalog()
	if err != nil {
		panic(err)
	}
	// The message's language is unknown: the number's language.
	msg, _ := c.AckFor(reply.Number{Default: language.Spanish}, language.Und, "7KQ2-M9XD")
	fmt.Println(msg)
	msg, _ = c.AckFor(reply.Number{}, language.Vietnamese, "7KQ2-M9XD")
	fmt.Println(msg)
	msg, _ = c.AckFor(reply.Number{Off: true}, language.Vietnamese, "7KQ2-M9XD")
	fmt.Printf("%q\n", msg)
	// Output:
	// Recibido. Ref. 7KQ2-M9XD
	// Đã nhận tin. Mã số 7KQ2-M9XD
	// ""
}

func ExampleClassify() {
	for _, text := range []string{"Stop.", "thoat", "KELUAR", "stop hitting us"} {
		fmt.Println(reply.Classify(text))
	}
	// Output:
	// opt-out
	// exit
	// exit
	// normal
}
