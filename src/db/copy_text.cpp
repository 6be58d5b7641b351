#include "db/copy_text.h"

namespace mmmove {

void decode_copy_line(std::string_view line, std::string& buf, FieldRow& out) {
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    out.clear();
    buf.clear();
    buf.reserve(line.size() + 1);  // decoding never grows: pointers into buf stay valid
    size_t start = 0;
    bool field_null = false;
    size_t i = 0;
    auto end_field = [&]() {
        if (field_null)
            out.push_back(Field{});
        else
            out.push_back(Field{buf.data() + start, buf.size() - start, false});
        start = buf.size();
        field_null = false;
    };
    while (i <= line.size()) {
        if (i == line.size() || line[i] == '\t') {
            end_field();
            ++i;
            continue;
        }
        char c = line[i];
        if (c != '\\' || i + 1 >= line.size()) {
            buf.push_back(c);
            ++i;
            continue;
        }
        char e = line[i + 1];
        i += 2;
        switch (e) {
            case 'N':
                field_null = true;
                break;
            case 'b': buf.push_back('\b'); break;
            case 'f': buf.push_back('\f'); break;
            case 'n': buf.push_back('\n'); break;
            case 'r': buf.push_back('\r'); break;
            case 't': buf.push_back('\t'); break;
            case 'v': buf.push_back('\v'); break;
            case 'x': {
                int v = 0, n = 0;
                while (n < 2 && i < line.size() && isxdigit(static_cast<unsigned char>(line[i]))) {
                    v = v * 16 + (isdigit(static_cast<unsigned char>(line[i])) ? line[i] - '0' : (tolower(line[i]) - 'a' + 10));
                    ++i, ++n;
                }
                buf.push_back(static_cast<char>(v));
                break;
            }
            default:
                if (e >= '0' && e <= '7') {
                    int v = e - '0', n = 1;
                    while (n < 3 && i < line.size() && line[i] >= '0' && line[i] <= '7') v = v * 8 + (line[i++] - '0'), ++n;
                    buf.push_back(static_cast<char>(v));
                } else {
                    buf.push_back(e);
                }
        }
    }
}

void append_copy_field(std::string& out, const Field& f) {
    if (f.null) {
        out += "\\N";
        return;
    }
    const char* p = f.data;
    const char* end = f.data + f.size;
    const char* run = p;
    for (; p < end; ++p) {
        char c = *p;
        const char* esc = nullptr;
        switch (c) {
            case '\\': esc = "\\\\"; break;
            case '\t': esc = "\\t"; break;
            case '\n': esc = "\\n"; break;
            case '\r': esc = "\\r"; break;
            default: continue;
        }
        out.append(run, p - run);
        out.append(esc);
        run = p + 1;
    }
    out.append(run, end - run);
}

}  // namespace mmmove
