package genesysemu

import (
	"fmt"
	"reflect"
	"strings"
)

// checkKeys reports the first object key in data (a decoded JSON value) that
// the Go type t does not name exactly. encoding/json matches keys without
// regard to case, so "memberIDs" would fill memberIds; the real service is
// case-sensitive and the emulator must be too, or a client's misspelt tag
// would go unnoticed.
func checkKeys(data any, t reflect.Type) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := data.(map[string]any)
		if !ok {
			return nil
		}
		fields := jsonFields(t)
		for k, v := range obj {
			ft, ok := fields[k]
			if !ok {
				return fmt.Errorf("unknown field %q", k)
			}
			if err := checkKeys(v, ft); err != nil {
				return err
			}
		}
	case reflect.Slice:
		list, _ := data.([]any)
		for _, v := range list {
			if err := checkKeys(v, t.Elem()); err != nil {
				return err
			}
		}
	}
	return nil
}

// jsonFields maps the JSON names of struct type t, embedded structs
// included, to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		switch {
		case f.Anonymous && tag == "" && f.Type.Kind() == reflect.Struct:
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
		case name == "-" || !f.IsExported():
		case name == "":
			out[f.Name] = f.Type
		default:
			out[name] = f.Type
		}
	}
	return out
}
