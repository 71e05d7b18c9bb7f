package resolvers

import (
	"slices"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/groupdir/gateway/graph/model"
	"github.com/groupdir/gateway/upstream"
	"github.com/groupdir/gateway/upstream/genesys"
	"github.com/groupdir/gateway/upstream/usergroups"
)

// This file maps upstream types to graph/model and back, so that an
// upstream rename never changes the public schema.

// str returns nil for "", so absent upstream values read as null.
func str(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// ref returns s's address, or nil for "": the model shares the upstream
// value's field, which nothing writes after decoding, instead of a copy per
// field (a page of 100 members made about a thousand such copies).
func ref(s *string) *string {
	if *s == "" {
		return nil
	}
	return s
}

// refNum is ref for an int (nil for 0, which the upstream omits).
func refNum(n *int) *int {
	if *n == 0 {
		return nil
	}
	return n
}

// num returns nil for 0 where the upstream omits zero values.
func num[T ~int | ~int64](n T) *int {
	if n == 0 {
		return nil
	}
	v := int(n)
	return &v
}

func groupFromAPI(g *genesys.Group) *model.Group {
	if g == nil {
		return nil
	}
	m := groupValue(g)
	return &m
}

func groupValue(g *genesys.Group) model.Group {
	rulesVisible := g.RulesVisible
	return model.Group{
		ID:            g.ID,
		Name:          g.Name,
		Description:   ref(&g.Description),
		DateModified:  ref(&g.DateModified),
		MemberCount:   num(g.MemberCount),
		State:         entityState(g.State),
		Version:       refNum(&g.Version),
		Type:          groupType(g.Type),
		Images:        images(g.Images),
		Addresses:     groupAddresses(g.Addresses),
		RulesVisible:  &rulesVisible,
		Visibility:    visibility(g.Visibility),
		RolesEnabled:  g.RolesEnabled,
		IncludeOwners: g.IncludeOwners,
		CallsEnabled:  g.CallsEnabled,
		Owners:        members(g.Owners),
		SelfURI:       ref(&g.SelfURI),
	}
}

func groups(gs []genesys.Group) []model.Group {
	out := make([]model.Group, len(gs))
	for i := range gs {
		out[i] = groupValue(&gs[i])
	}
	return out
}

// enumTable maps the upstream spellings (lower and upper case) of a
// schema enum's values to shared values: the hot mappings (a state per
// member) then allocate nothing. Nothing writes a mapped model.
type enumTable[T ~string] map[string]*T

// unknownEnum is the value every upstream-fed enum of the schema has for
// the upstream values this gateway does not know.
const unknownEnum = "UNKNOWN"

func newEnumTable[T ~string](all []T) enumTable[T] {
	t := enumTable[T]{}
	for i := range all {
		t[string(all[i])] = &all[i]
		t[strings.ToLower(string(all[i]))] = &all[i]
	}
	if t[unknownEnum] == nil {
		panic("enum without " + unknownEnum)
	}
	return t
}

// of maps an upstream value to the schema's: "" (absent) to nil, a value
// the schema does not know to UNKNOWN, so that no upstream text reaches a
// response as an enum value (the client reports such values as drift).
func (t enumTable[T]) of(s string) *T {
	if v, ok := t[s]; ok {
		return v
	}
	if s == "" {
		return nil
	}
	return t[unknownEnum]
}

var (
	entityStates     = newEnumTable(slices.Clone(model.AllEntityState))
	groupTypes       = newEnumTable(slices.Clone(model.AllGroupType))
	groupVisibility  = newEnumTable(slices.Clone(model.AllGroupVisibility))
	groupAddressType = newEnumTable(slices.Clone(model.AllGroupAddressType))
)

func entityState(s genesys.State) *model.EntityState         { return entityStates.of(string(s)) }
func groupType(t genesys.GroupType) *model.GroupType         { return groupTypes.of(string(t)) }
func visibility(v genesys.Visibility) *model.GroupVisibility { return groupVisibility.of(string(v)) }

func images(in []genesys.Image) []model.Image {
	out := make([]model.Image, len(in))
	for i := range in {
		im := &in[i]
		out[i] = model.Image{Resolution: ref(&im.Resolution), ImageURI: ref(&im.ImageURI)}
	}
	return out
}

func groupAddresses(in []genesys.GroupContact) []model.GroupAddress {
	out := make([]model.GroupAddress, len(in))
	for i := range in {
		a := &in[i]
		out[i] = model.GroupAddress{Address: ref(&a.Address), Extension: ref(&a.Extension), Display: ref(&a.Display),
			Type: groupAddressType.of(string(a.Type)), MediaType: ref(&a.MediaType)}
	}
	return out
}

func members(in []genesys.User) []model.Member {
	out := make([]model.Member, len(in))
	for i := range in {
		out[i] = member(&in[i])
	}
	return out
}

func member(u *genesys.User) model.Member {
	m := model.Member{
		ID:                 u.ID,
		Name:               ref(&u.Name),
		Department:         ref(&u.Department),
		Email:              ref(&u.Email),
		PrimaryContactInfo: contacts(u.PrimaryContactInfo),
		Addresses:          contacts(u.Addresses),
		State:              entityState(u.State),
		Title:              ref(&u.Title),
		Username:           ref(&u.Username),
		Images:             images(u.Images),
		Version:            refNum(&u.Version),
		AcdAutoAnswer:      u.AcdAutoAnswer,
		PreferredName:      ref(&u.PreferredName),
		SelfURI:            ref(&u.SelfURI),
		DateLastLogin:      ref(&u.DateLastLogin),
	}
	if x := u.Expansions; x != nil {
		expansions(&m, x)
	}
	if u.Division != nil {
		m.Division = &model.Division{ID: ref(&u.Division.ID), Name: ref(&u.Division.Name)}
	}
	if u.Chat != nil {
		m.Chat = &model.Chat{JabberID: ref(&u.Chat.JabberID)}
	}
	if u.Manager != nil {
		mgr := member(u.Manager)
		m.Manager = &mgr
	}
	return m
}

// expansions maps the expanded parts of a user into m.
func expansions(m *model.Member, x *genesys.UserExpansions) {
	m.Certifications = x.Certifications
	m.RoutingStatus = decodeRaw[model.RoutingStatus](x.RoutingStatus)
	m.Presence = presence(x.Presence)
	m.OutOfOffice = decodeRaw[model.OutOfOffice](x.OutOfOffice)
	if e := x.EmployerInfo; e != nil {
		m.EmployerInfo = &model.EmployerInfo{OfficialName: ref(&e.OfficialName), EmployeeID: ref(&e.EmployeeID),
			EmployeeType: ref(&e.EmployeeType), DateHire: ref(&e.DateHire)}
	}
	if b := x.Biography; b != nil {
		m.Biography = &model.Biography{Biography: ref(&b.Biography), Interests: b.Interests, Hobbies: b.Hobbies, Spouse: ref(&b.Spouse)}
	}
}

func contacts(in []genesys.Contact) []model.Contact {
	out := make([]model.Contact, len(in))
	for i := range in {
		c := &in[i]
		out[i] = model.Contact{Address: ref(&c.Address), Display: ref(&c.Display), MediaType: ref(&c.MediaType),
			Type: ref(&c.Type), Extension: ref(&c.Extension), CountryCode: ref(&c.CountryCode)}
	}
	return out
}

// rawOptions decode the expanded parts of a user as encoding/json did
// (names matched case-insensitively, duplicates and invalid UTF-8 let
// through) and tolerate type drift as the client does for the rest of the
// answer: a member of the wrong type reads as null, the others are kept.
// (Drift here is not counted: mapping has no observer.)
var rawOptions = jsonv2.JoinOptions(jsonv2.MatchCaseInsensitiveNames(true), jsontext.AllowDuplicateNames(true),
	jsontext.AllowInvalidUTF8(true), jsonv2.WithUnmarshalers(upstream.Tolerant(func(string) {})))

// decodeRaw decodes an expanded part of a user that the client keeps raw;
// a part that does not decode (not JSON) is left out rather than failing
// the member.
func decodeRaw[T any](raw []byte) *T {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var v T
	if jsonv2.Unmarshal(raw, &v, rawOptions) != nil {
		return nil
	}
	return &v
}

// presence reads the Genesys presence object, whose system presence sits in
// presenceDefinition.systemPresence.
func presence(raw []byte) *model.Presence {
	p := decodeRaw[struct {
		PresenceDefinition struct {
			SystemPresence string `json:"systemPresence"`
		} `json:"presenceDefinition"`
		SystemPresence string `json:"systemPresence"`
		ModifiedDate   string `json:"modifiedDate"`
	}](raw)
	if p == nil {
		return nil
	}
	sp := p.PresenceDefinition.SystemPresence
	if sp == "" {
		sp = p.SystemPresence
	}
	return &model.Presence{SystemPresence: str(sp), ModifiedDate: str(p.ModifiedDate)}
}

func memberPage(l *genesys.UserEntityListing) *model.MemberPage {
	return &model.MemberPage{Entities: members(l.Entities), Total: int(l.Total), PageNumber: l.PageNumber,
		PageSize: l.PageSize, PageCount: l.PageCount}
}

func groupPage(l *genesys.GroupEntityListing) *model.GroupPage {
	return &model.GroupPage{Entities: groups(l.Entities), Total: int(l.Total), PageNumber: l.PageNumber,
		PageSize: l.PageSize, PageCount: l.PageCount}
}

// searchResult maps a search page. Genesys carries nextPage on the last
// page too and previousPage (= currentPage) on the first (the official
// sample), so whether they exist is read from pageNumber and pageCount: a
// client paging until nextPage is null stops at the last page.
func searchResult(r *genesys.GroupsSearchResponse) *model.GroupSearchResult {
	m := &model.GroupSearchResult{Results: groups(r.Results), Total: int(r.Total), PageCount: r.PageCount,
		PageSize: r.PageSize, PageNumber: r.PageNumber, CurrentPage: cursor(r.CurrentPage)}
	if r.PageNumber > 1 {
		m.PreviousPage = cursor(r.PreviousPage)
	}
	if r.PageNumber < r.PageCount {
		m.NextPage = cursor(r.NextPage)
	}
	return m
}

// cursor returns the q64 value of a search page URI, the argument
// searchGroupsByCursor takes.
func cursor(uri string) *string { return str(genesys.CursorQ64(uri)) }

func profile(p *genesys.GroupProfile) model.GroupProfile {
	v := p.Version
	return model.GroupProfile{ID: derivedID(typeGroupProfile, p.ID), GroupID: p.ID, Name: str(p.Name), State: entityState(p.State), DateModified: str(p.DateModified), Version: &v}
}

func profilePage(l *genesys.GroupProfileEntityListing) *model.GroupProfilePage {
	out := make([]model.GroupProfile, len(l.Entities))
	for i := range l.Entities {
		out[i] = profile(&l.Entities[i])
	}
	return &model.GroupProfilePage{Entities: out, Total: int(l.Total), PageNumber: l.PageNumber, PageSize: l.PageSize, PageCount: l.PageCount}
}

func fieldConfig(fc *genesys.FieldConfig) *model.FieldConfig {
	sections := make([]model.FieldSection, len(fc.Sections))
	for i, s := range fc.Sections {
		fields := make([]model.FieldDefinition, len(s.FieldList))
		for j, f := range s.FieldList {
			fields[j] = model.FieldDefinition{Key: str(f.Key), Type: str(f.Type), State: str(f.State),
				Required: &f.Required, Repeatable: &f.Repeatable, Gdpr: &f.Gdpr, CustomLabels: &f.CustomLabels,
				InstructionText: str(f.InstructionText), LabelKeys: nonNil(f.LabelKeys)}
		}
		sections[i] = model.FieldSection{Key: str(s.Key), State: str(s.State), InstructionText: str(s.InstructionText), FieldList: fields}
	}
	return &model.FieldConfig{ID: str(fc.ID), Name: str(fc.Name), EntityType: str(string(fc.EntityType)), State: str(fc.State),
		Sections: sections, Version: str(fc.Version), SchemaVersion: str(fc.SchemaVersion)}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func userGroup(u *usergroups.UserGroup) *model.UserGroup {
	if u == nil {
		return nil
	}
	m := userGroupValue(u)
	return &m
}

func userGroupValue(u *usergroups.UserGroup) model.UserGroup {
	var ext *string
	if u.ExternalID != nil && *u.ExternalID != "" {
		e := *u.ExternalID
		ext = &e
	}
	return model.UserGroup{ID: u.ID, Name: u.Name, ExternalID: ext, UserIDs: nonNil(u.UserIDs)}
}

func userGroupList(in []usergroups.UserGroup) []model.UserGroup {
	out := make([]model.UserGroup, len(in))
	for i := range in {
		out[i] = userGroupValue(&in[i])
	}
	return out
}
