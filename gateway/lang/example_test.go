package lang_test

import (
	"fmt"

	"golang.org/x/text/language"

	"github.com/hotline-org/hotline/gateway/lang"
)

func ExampleDetector_Detect() {
	d, err := lang.NewDetector([]language.Tag{lang.English, lang.Malay, lang.Indonesian, lang.Chinese})
	if err != nil {
		panic(err)
	}
	fmt.Println(d.Detect("救命 我们被关起来了", "+60123456789"))
	fmt.Println(d.Detect("tolong saya tidak bisa keluar", "+60123456789"))
	// Malay and Indonesian alike: the number breaks the tie.
	fmt.Println(d.Detect("tolong kami dikurung", "+6281234567"))
	fmt.Println(d.Detect("12", ""))
	// Output:
	// zh-Hans true
	// id true
	// id false
	// und false
}
