package upstream

import (
	"errors"
	"math"
	"reflect"
	"strconv"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Decode decodes a JSON answer into v with the encoding/json/v2 prototype
// (github.com/go-json-experiment/json, by the Go team's JSON maintainers):
// it decodes the upstream pages 3-5 times faster than encoding/json, which
// was the largest CPU cost of a member-heavy operation. Names match
// exactly, as both APIs send them; unknown names are ignored. opts are
// json v2 options, e.g. a client's hand-written unmarshalers
// (jsonv2.WithUnmarshalers), built once by the caller.
//
// On a type mismatch, field names the JSON member that did not fit (e.g.
// "version"), so that an error can say which without quoting the body.
func Decode(data []byte, v any, opts ...jsonv2.Options) (field string, err error) {
	err = jsonv2.Unmarshal(data, v, opts...)
	var se *jsonv2.SemanticError
	if errors.As(err, &se) {
		p := string(se.JSONPointer)
		field = p[strings.LastIndexByte(p, '/')+1:]
	}
	return field, err
}

// Type drift: an answer whose member has a JSON type or a value the
// upstream's documentation does not give it (a string for a number, an
// object for a list, an enumeration value added after this gateway was
// built). The official Genesys SDKs read each member by type assertion
// and drop the ones that do not fit; a client decoding with Tolerant does
// the same instead of failing the whole answer, and reports each drift.

// DriftObserver is told of each drifted member of an upstream answer
// (field is the member's JSON name), for metrics and logs. It must be safe
// for concurrent use.
type DriftObserver interface {
	Drifted(upstreamName, field string)
}

// Enum is implemented by the string types of an upstream's enumerations:
// Known reports whether the value is one this gateway knows. A decoding
// with Tolerant keeps an unknown value as sent and reports it as drift.
type Enum interface {
	Known() bool
}

// Tolerant returns the json v2 unmarshalers that make a decoding tolerant
// of type drift, reporting each drifted member to report:
//   - a member of an unexpected JSON type reads as its zero value (nil for
//     a pointer, slice or map), nested objects and lists alike;
//   - an integer sent as a string ("152") reads as the number (and is
//     reported), an integral number sent with a fraction or an exponent
//     (2.0, 1e2) reads as the integer (not reported);
//   - an integer that is not integral or lies outside GraphQL's Int (signed
//     32 bits, see Integer) reads as zero;
//   - an Enum value that is not Known is kept and reported.
//
// Null reads as the zero value, and unknown members are skipped, as
// before. Every other value is left to json v2.
func Tolerant(report func(field string)) *jsonv2.Unmarshalers {
	return jsonv2.UnmarshalFromFunc(func(dec *jsontext.Decoder, v any) error {
		return tolerate(dec, reflect.ValueOf(v).Elem(), report)
	})
}

var rawType = reflect.TypeFor[jsontext.Value]()

// tolerate decodes the next value into rv when it drifted, or returns
// jsonv2.SkipFunc for json v2 to decode it.
func tolerate(dec *jsontext.Decoder, rv reflect.Value, report func(string)) error {
	kind := dec.PeekKind()
	t := rv.Type()
	if kind == 'n' || t == rawType || t.Kind() == reflect.Interface {
		return jsonv2.SkipFunc
	}
	target := t
	if t.Kind() == reflect.Pointer {
		target = t.Elem()
	}
	switch {
	case isInt(target.Kind()) && (kind == '0' || kind == '"'):
		v, err := dec.ReadValue()
		if err != nil {
			return err
		}
		n, ok, drift := Integer(v)
		if drift {
			report(DriftField(dec))
		}
		if !ok {
			rv.SetZero()
			return nil
		}
		if t.Kind() == reflect.Pointer {
			rv.Set(reflect.New(target))
			rv = rv.Elem()
		}
		rv.SetInt(n)
		return nil
	case t.Kind() == reflect.String && kind == '"':
		if _, ok := rv.Addr().Interface().(Enum); !ok {
			return jsonv2.SkipFunc
		}
		v, err := dec.ReadValue()
		if err != nil {
			return err
		}
		// ReadValue checked the string; invalid UTF-8 is mangled as json
		// v2 mangles it.
		s, _ := jsontext.AppendUnquote(nil, v)
		rv.SetString(string(s))
		if !rv.Interface().(Enum).Known() {
			report(DriftField(dec))
		}
		return nil
	case kindFits(target, kind):
		return jsonv2.SkipFunc
	}
	if err := dec.SkipValue(); err != nil {
		return err
	}
	rv.SetZero()
	report(DriftField(dec))
	return nil
}

// kindFits reports whether a JSON value of kind may be decoded into t by json
// v2 (integers are handled apart).
func kindFits(t reflect.Type, kind jsontext.Kind) bool {
	switch t.Kind() {
	case reflect.String:
		return kind == '"'
	case reflect.Bool:
		return kind == 't' || kind == 'f'
	case reflect.Float32, reflect.Float64:
		return kind == '0'
	case reflect.Struct, reflect.Map:
		return kind == '{'
	case reflect.Slice, reflect.Array:
		return kind == '['
	}
	return false
}

func isInt(k reflect.Kind) bool {
	return k == reflect.Int || k == reflect.Int8 || k == reflect.Int16 || k == reflect.Int32 || k == reflect.Int64
}

// Integer reads a JSON value sent for an integer member. The gateway
// serves every upstream integer as a GraphQL Int, a signed 32-bit integer,
// so a value outside that range cannot be served: like a member of the
// wrong type it reads as absent. ok says whether n holds the value; drift
// whether the value drifted: a string holding an integer (n is that
// integer), a number that is not an integral Int, any other JSON type.
// Null is neither (absent as documented).
func Integer(v jsontext.Value) (n int64, ok, drift bool) {
	switch v.Kind() {
	case 'n':
		return 0, false, false
	case '0':
		n, ok = parseInteger(string(v))
		return n, ok, !ok
	case '"':
		s, err := jsontext.AppendUnquote(nil, v)
		if err == nil {
			n, ok = parseInteger(string(s))
		}
		return n, ok, true
	}
	return 0, false, true
}

// parseInteger parses a JSON number (or a string sent for one) that is an
// integer within GraphQL's Int range; 2.0 and 1e2 are integers.
func parseInteger(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 32)
	if err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
		return 0, false
	}
	return int64(f), true
}

// DriftField names the member of the value just read from dec: the last
// name of its JSON pointer, list indexes skipped (an element of a list
// is reported as the list).
func DriftField(dec *jsontext.Decoder) string {
	p := string(dec.StackPointer())
	for p != "" {
		i := strings.LastIndexByte(p, '/')
		tok := p[i+1:]
		p = p[:max(i, 0)]
		if tok != "" && strings.Trim(tok, "0123456789") == "" {
			continue
		}
		return strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
	}
	return ""
}
