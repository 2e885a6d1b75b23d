package event_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/wtbdev/wtb/event"
)

var (
	minTime = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
)

func genTime(t *rapid.T, label string) time.Time {
	sec := rapid.Int64Range(minTime, maxTime).Draw(t, label+".sec")
	nsec := rapid.Int64Range(0, 999_999_999).Draw(t, label+".nsec")
	return time.Unix(sec, nsec).UTC()
}

// genNumber draws a JSON number as json.Number, the form numbers inside
// untyped values decode to.
func genNumber(t *rapid.T, label string) json.Number {
	if rapid.Bool().Draw(t, label+".isInt") {
		return json.Number(strconv.FormatInt(rapid.Int64().Draw(t, label), 10))
	}
	return json.Number(strconv.FormatFloat(rapid.Float64().Draw(t, label), 'g', -1, 64))
}

// genAny draws a JSON value: null, bool, number, string, array or object.
func genAny(t *rapid.T, label string, depth int) any {
	kinds := 4
	if depth < 3 {
		kinds = 6
	}
	switch rapid.IntRange(0, kinds-1).Draw(t, label+".kind") {
	case 0:
		return nil
	case 1:
		return rapid.Bool().Draw(t, label)
	case 2:
		return genNumber(t, label)
	case 3:
		return rapid.String().Draw(t, label)
	case 4:
		n := rapid.IntRange(0, 3).Draw(t, label+".len")
		out := make([]any, n)
		for i := range out {
			out[i] = genAny(t, label+"[]", depth+1)
		}
		return out
	default:
		return genObject(t, label, depth+1)
	}
}

func genObject(t *rapid.T, label string, depth int) map[string]any {
	n := rapid.IntRange(0, 3).Draw(t, label+".len")
	out := make(map[string]any, n)
	for range n {
		out[rapid.String().Draw(t, label+".key")] = genAny(t, label+".value", depth)
	}
	return out
}

// fill sets every field of the struct v to a random value. Optional fields
// (pointers, plain maps and slices) are sometimes nil; collections the
// reference defaults to empty are never nil, since those decode as empty.
func fill(t *rapid.T, v reflect.Value, label string) {
	for i := range v.NumField() {
		f := v.Field(i)
		sf := v.Type().Field(i)
		if !sf.IsExported() && !sf.Anonymous {
			continue // state of the codec: the decoder sets it
		}
		name := label + "." + sf.Name
		switch f.Type() {
		case reflect.TypeFor[event.Base]():
			f.Set(reflect.ValueOf(event.Base{
				ID:        rapid.StringN(1, -1, -1).Draw(t, name+".ID"),
				Timestamp: genTime(t, name+".Timestamp"),
			}))
			continue
		case reflect.TypeFor[event.LangGraphKind]():
			f.Set(reflect.ValueOf(rapid.SampledFrom(event.LangGraphKinds()).Draw(t, name)))
			continue
		case reflect.TypeFor[*time.Time]():
			if rapid.Bool().Draw(t, name+".set") {
				tm := genTime(t, name)
				f.Set(reflect.ValueOf(&tm))
			} else {
				f.SetZero()
			}
			continue
		case reflect.TypeFor[any]():
			if a := genAny(t, name, 0); a != nil {
				f.Set(reflect.ValueOf(a))
			} else {
				f.SetZero()
			}
			continue
		}
		optional := f.Type().Name() == "" // map[string]any, []string, ...: null allowed
		switch f.Kind() {
		case reflect.String:
			f.SetString(rapid.String().Draw(t, name))
		case reflect.Int64:
			f.SetInt(rapid.Int64().Draw(t, name))
		case reflect.Float64:
			f.SetFloat(rapid.Float64().Draw(t, name))
		case reflect.Bool:
			f.SetBool(rapid.Bool().Draw(t, name))
		case reflect.Pointer:
			if rapid.Bool().Draw(t, name+".set") {
				p := reflect.New(f.Type().Elem())
				switch p.Elem().Kind() {
				case reflect.String:
					p.Elem().SetString(rapid.String().Draw(t, name))
				case reflect.Int64:
					p.Elem().SetInt(rapid.Int64().Draw(t, name))
				default:
					t.Fatalf("no generator for %s", f.Type())
				}
				f.Set(p)
			} else {
				f.SetZero()
			}
		case reflect.Slice, reflect.Map:
			if optional && rapid.Bool().Draw(t, name+".nil") {
				f.SetZero()
				continue
			}
			n := rapid.IntRange(0, 4).Draw(t, name+".len")
			if f.Kind() == reflect.Slice {
				s := reflect.MakeSlice(f.Type(), n, n)
				for j := range n {
					s.Index(j).Set(elemValue(f.Type().Elem(), genElem(t, f.Type().Elem(), name+"[]")))
				}
				f.Set(s)
				continue
			}
			m := reflect.MakeMapWithSize(f.Type(), n)
			for range n {
				m.SetMapIndex(reflect.ValueOf(rapid.String().Draw(t, name+".key")),
					elemValue(f.Type().Elem(), genElem(t, f.Type().Elem(), name+".value")))
			}
			f.Set(m)
		default:
			t.Fatalf("no generator for field %s of type %s", sf.Name, f.Type())
		}
	}
}

func elemValue(typ reflect.Type, v any) reflect.Value {
	if v == nil {
		return reflect.Zero(typ)
	}
	return reflect.ValueOf(v).Convert(typ)
}

func genElem(t *rapid.T, typ reflect.Type, label string) any {
	switch typ.Kind() {
	case reflect.String:
		return rapid.String().Draw(t, label)
	case reflect.Float64:
		return rapid.Float64().Draw(t, label)
	case reflect.Interface:
		return genAny(t, label, 1)
	}
	t.Fatalf("no generator for element %s", typ)
	return nil
}

// TestRoundTripProperty: for every registered type, an event with random
// values in every field encodes and decodes (by Decode and by DecodeAs) to a
// deeply equal event.
func TestRoundTripProperty(t *testing.T) {
	for _, ty := range event.Types() {
		t.Run(ty.Name, func(t *testing.T) {
			rapid.Check(t, func(rt *rapid.T) {
				ev := ty.New()
				fill(rt, reflect.ValueOf(ev).Elem(), ty.Name)
				b, err := event.Encode(ev)
				if err != nil {
					rt.Fatalf("Encode: %v", err)
				}
				got, err := event.Decode(b)
				if err != nil {
					rt.Fatalf("Decode: %v\n%s", err, b)
				}
				if !reflect.DeepEqual(ev, got) {
					rt.Fatalf("round trip differs:\n in %#v\nout %#v\n%s", ev, got, b)
				}
				alias := append(append([]string{}, ty.Aliases...), ev.WireName())
				name := rapid.SampledFrom(alias).Draw(rt, "name")
				got, err = event.DecodeAs(name, b)
				if err != nil || !reflect.DeepEqual(ev, got) {
					rt.Fatalf("DecodeAs(%s): %v\n in %#v\nout %#v", name, err, ev, got)
				}
			})
		})
	}
}

// FuzzDecode: Decode never panics; what it accepts encodes and decodes back
// equal; what it rejects it rejects with a *DecodeError.
func FuzzDecode(f *testing.F) {
	for _, line := range sampleLines(f) {
		f.Add(line)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := event.Decode(data)
		if err != nil {
			var de *event.DecodeError
			if !errors.As(err, &de) || ev != nil {
				t.Fatalf("Decode error %T %v with event %v", err, err, ev)
			}
			return
		}
		b, err := event.Encode(ev)
		if err != nil {
			t.Fatalf("Encode of a decoded event: %v\n%#v", err, ev)
		}
		again, err := event.Decode(b)
		if err != nil {
			t.Fatalf("Decode(Encode(ev)): %v\n%s", err, b)
		}
		if !reflect.DeepEqual(ev, again) {
			t.Fatalf("round trip differs:\n in %#v\nout %#v", ev, again)
		}
	})
}
