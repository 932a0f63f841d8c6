module github.com/slogaudit/audit

go 1.22
