package idnumber_test

import (
	"errors"
	"fmt"

	"github.com/tongban/tongban/idnumber"
)

func ExampleValidateResidentID() {
	input := " 11010519491231002x" // as typed
	s := idnumber.NormalizeResidentID(input)
	if err := idnumber.ValidateResidentID(s); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(idnumber.MaskResidentID(s))

	err := idnumber.ValidateResidentID("110105194912310021")
	fmt.Println(err)
	fmt.Println(errors.Is(err, idnumber.ErrChecksum))
	// Output:
	// 110105********002X
	// idnumber: check character is 1, want X
	// true
}

func ExampleValidateCreditCode() {
	fmt.Println(idnumber.ValidateCreditCode("91110108551385082Q"))
	fmt.Println(idnumber.ValidateCreditCode("91110108551385082R"))
	fmt.Println(idnumber.ValidateCreditCode("9111010855138508"))
	// Output:
	// <nil>
	// idnumber: check character is R, want Q
	// idnumber: wrong length: 16 characters, want 18
}

func ExampleMaskName() {
	for _, name := range []string{"明", "张三", "张三明", "欧阳娜娜"} {
		fmt.Println(idnumber.MaskName(name))
	}
	// Output:
	// *
	// *三
	// 张*明
	// 欧**娜
}
