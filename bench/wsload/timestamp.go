package main

import "time"

// parseTime reads an RFC 3339 time such as 2026-12-07T09:14:03.120418Z or
// 2026-12-07T09:14:03.120418+00:00 and returns it in Unix nanoseconds. The usual form is read
// by hand, without allocating (one call per comment per client); any other goes to time.Parse.
func parseTime(b []byte) (int64, bool) {
	if ns, ok := parseUsual(b); ok {
		return ns, true
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return 0, false
	}
	return t.UnixNano(), true
}

// parseUsual reads YYYY-MM-DDTHH:MM:SS, up to 9 digits of fraction, then Z or ±HH:MM.
func parseUsual(b []byte) (int64, bool) {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return 0, false
	}
	year, ok1 := digits(b[0:4])
	month, ok2 := digits(b[5:7])
	day, ok3 := digits(b[8:10])
	hour, ok4 := digits(b[11:13])
	minute, ok5 := digits(b[14:16])
	second, ok6 := digits(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) ||
		month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59 {
		return 0, false
	}
	rest := b[19:]
	var fraction int64
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && n <= 9 && rest[n] >= '0' && rest[n] <= '9' {
			fraction = fraction*10 + int64(rest[n]-'0')
			n++
		}
		if n == 1 {
			return 0, false
		}
		for scale := n; scale <= 9; scale++ {
			fraction *= 10
		}
		rest = rest[n:]
	}
	var offset int64
	switch {
	case len(rest) == 1 && rest[0] == 'Z':
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		h, okH := digits(rest[1:3])
		m, okM := digits(rest[4:6])
		if !okH || !okM || h > 23 || m > 59 {
			return 0, false
		}
		offset = (h*60 + m) * 60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return 0, false
	}
	seconds := daysFromCivil(year, month, day)*86400 + hour*3600 + minute*60 + second - offset
	return seconds*1_000_000_000 + fraction, true
}

func digits(b []byte) (int64, bool) {
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// daysFromCivil is the number of days from 1970-01-01 to the given date of the proleptic
// Gregorian calendar, for years 0 to 9999 (H. Hinnant's algorithm).
func daysFromCivil(year, month, day int64) int64 {
	if month <= 2 {
		year--
	}
	era := (year+400)/400 - 1 // year may be -1 here: shifted so the division floors
	yearOfEra := year - era*400
	shifted := (month + 9) % 12
	dayOfYear := (153*shifted+2)/5 + day - 1
	dayOfEra := yearOfEra*365 + yearOfEra/4 - yearOfEra/100 + dayOfYear
	return era*146097 + dayOfEra - 719468
}
