package usergroupsemu

import (
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// XML namespaces of DataContract serialization.
const (
	xmlnsInstance = "http://www.w3.org/2001/XMLSchema-instance"
	xmlnsArrays   = "http://schemas.microsoft.com/2003/10/Serialization/Arrays"
)

// answer is a response body, rendered as JSON or, through xmlDoc, as XML.
type answer interface {
	xmlDoc() any
}

// writeAnswer sends a with status, as JSON when the query asks for
// format=json and as XML otherwise (the documented default).
func writeAnswer(w http.ResponseWriter, r *http.Request, status int, a answer) {
	var (
		body        []byte
		err         error
		contentType string
	)
	if strings.EqualFold(param(r.URL.Query(), "format"), "json") {
		contentType = "application/json; charset=utf-8"
		body, err = json.Marshal(a)
	} else {
		contentType = "application/xml; charset=utf-8"
		body, err = xml.Marshal(a.xmlDoc())
		body = append([]byte(xml.Header), body...)
	}
	if err != nil {
		http.Error(w, "emulator: cannot encode the answer", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// param returns the first value of the query parameter name, matched
// case-insensitively as ServiceStack binds parameters.
func param(q url.Values, name string) string {
	if v, ok := q[name]; ok {
		return v[0]
	}
	for k, v := range q {
		if strings.EqualFold(k, name) {
			return v[0]
		}
	}
	return ""
}

// intParam parses the integer query parameter name (0 when absent); a value
// that is not an integer of the given size fails binding (400).
func intParam(q url.Values, name string, bits int) (int64, *failure) {
	v := param(q, name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, bits)
	if err != nil {
		return 0, bindingFailure("'" + name + "' must be an integer.")
	}
	return n, nil
}

// idKey is the form under which the emulator finds an id: a GUID in any of
// the spellings .NET's Guid.Parse accepts (hyphens or not, braces, any case)
// as 32 lower-case hex digits, any other id as it is. Ids are stored and
// answered as they were made or given, never re-spelled.
func idKey(id string) string {
	u, err := uuid.Parse(id)
	if err != nil {
		return id
	}
	return hex.EncodeToString(u[:])
}

// writeRequest is the body of a create or an update, JSON or XML. Pointers
// tell an omitted member from an empty one.
type writeRequest struct {
	CompanyID      int64     `json:"CompanyId" xml:"CompanyId"`
	ExternalID     *string   `json:"ExternalId" xml:"ExternalId"`
	ID             *string   `json:"Id" xml:"Id"`
	IntegrationKey string    `json:"IntegrationKey" xml:"IntegrationKey"`
	Name           *string   `json:"Name" xml:"Name"`
	UserIDs        *[]string `json:"UserIds" xml:"-"`
	XMLUserIDs     *xmlIDsIn `json:"-" xml:"UserIds"`
}

// xmlIDsIn reads <UserIds><d2p1:string>…</d2p1:string></UserIds> (any
// prefix or namespace).
type xmlIDsIn struct {
	IDs []string `xml:"string"`
}

// decodeWrite reads a POST or PUT body: JSON when the Content-Type says so,
// XML otherwise. Errors never quote the body.
func decodeWrite(r *http.Request) (writeRequest, *failure) {
	var req writeRequest
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType == "application/json" {
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			return req, serializationFailure("JSON")
		}
		return req, nil
	}
	if err := xml.NewDecoder(r.Body).Decode(&req); err != nil {
		return req, serializationFailure("XML")
	}
	if req.XMLUserIDs != nil {
		ids := append([]string{}, req.XMLUserIDs.IDs...)
		req.UserIDs = &ids
	}
	return req, nil
}

// groupAnswer is {"UserGroup": {...}}, the answer of create, get and update.
type groupAnswer struct {
	UserGroup UserGroup `json:"UserGroup"`
}

// searchAnswer is {"UserGroups": [...]}; the reference documents no paging
// metadata, so there is none.
type searchAnswer struct {
	UserGroups []UserGroup `json:"UserGroups"`
}

// deleteAnswer is the {} of a delete.
type deleteAnswer struct{}

// xmlUserGroup is a UserGroup in DataContract XML: elements in alphabetical
// order, the member list as d2p1:string items.
type xmlUserGroup struct {
	CompanyID  int64     `xml:"CompanyId"`
	ExternalID string    `xml:"ExternalId,omitempty"`
	ID         string    `xml:"Id"`
	Name       string    `xml:"Name"`
	UserIDs    xmlIDsOut `xml:"UserIds"`
}

type xmlIDsOut struct {
	NS  string   `xml:"xmlns:d2p1,attr"`
	IDs []string `xml:"d2p1:string"`
}

func toXML(g UserGroup) xmlUserGroup {
	return xmlUserGroup{
		CompanyID: g.CompanyID, ExternalID: g.ExternalID, ID: g.ID, Name: g.Name,
		UserIDs: xmlIDsOut{NS: xmlnsArrays, IDs: g.UserIDs},
	}
}

type xmlGroupResponse struct {
	XMLName   xml.Name     `xml:"UserGroupResponse"`
	NS        string       `xml:"xmlns:i,attr"`
	UserGroup xmlUserGroup `xml:"UserGroup"`
}

func (a groupAnswer) xmlDoc() any {
	return xmlGroupResponse{NS: xmlnsInstance, UserGroup: toXML(a.UserGroup)}
}

type xmlSearchResponse struct {
	XMLName    xml.Name     `xml:"UserGroupSearchResponse"`
	NS         string       `xml:"xmlns:i,attr"`
	UserGroups xmlGroupList `xml:"UserGroups"`
}

// xmlGroupList is always rendered, as <UserGroups/> when empty.
type xmlGroupList struct {
	Items []xmlUserGroup `xml:"UserGroup"`
}

func (a searchAnswer) xmlDoc() any {
	items := make([]xmlUserGroup, len(a.UserGroups))
	for i, g := range a.UserGroups {
		items[i] = toXML(g)
	}
	return xmlSearchResponse{NS: xmlnsInstance, UserGroups: xmlGroupList{Items: items}}
}

type xmlDeleteResponse struct {
	XMLName xml.Name `xml:"DeleteUserGroupResponse"`
	NS      string   `xml:"xmlns:i,attr"`
}

func (deleteAnswer) xmlDoc() any { return xmlDeleteResponse{NS: xmlnsInstance} }
