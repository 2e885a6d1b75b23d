package event

// RefMarshal writes ev with the encoding/json encoder that the generated
// one replaced, for the tests of package event_test.
func RefMarshal(ev Event) ([]byte, error) {
	return ev.(interface{ refMarshal() ([]byte, error) }).refMarshal()
}
