#include "fake_mysql_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <vector>

namespace mmmove::test {
namespace {

// Capability flags the fake announces: protocol 4.1 with plugin authentication and LOCAL INFILE,
// never TLS (CLIENT_SSL) and never CLIENT_DEPRECATE_EOF (so result sets end with EOF packets).
constexpr uint32_t kCapabilities = 0x00000001 /* LONG_PASSWORD */ | 0x00000004 /* LONG_FLAG */ |
                                   0x00000008 /* CONNECT_WITH_DB */ | 0x00000080 /* LOCAL_FILES */ |
                                   0x00000200 /* PROTOCOL_41 */ | 0x00002000 /* TRANSACTIONS */ |
                                   0x00008000 /* SECURE_CONNECTION */ | 0x00010000 /* MULTI_STATEMENTS */ |
                                   0x00020000 /* MULTI_RESULTS */ | 0x00080000 /* PLUGIN_AUTH */;

std::string le(uint32_t v, int bytes) {
    std::string s;
    for (int i = 0; i < bytes; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
    return s;
}

std::string lenenc(const std::string& s) { return static_cast<char>(s.size()) + s; }  // short strings only

std::string handshake() {
    std::string p;
    p += '\x0a';
    p += std::string("5.7.99-mmmove-fake") + '\0';
    p += le(7, 4);
    p += "abcdefgh";
    p += '\0';
    p += le(kCapabilities & 0xffff, 2);
    p += '\x2d';  // utf8mb4_general_ci
    p += le(2, 2);
    p += le(kCapabilities >> 16, 2);
    p += '\x15';
    p += std::string(10, '\0');
    p += "ijklmnopqrst";
    p += '\0';
    p += std::string("mysql_native_password") + '\0';
    return p;
}

std::string ok_packet(unsigned affected = 0) { return std::string("\x00", 1) + le(affected, 1) + '\0' + le(2, 2) + le(0, 2); }
std::string err_packet(const std::string& msg) { return "\xff" + le(1105, 2) + "#HY000" + msg; }
std::string eof_packet() { return "\xfe" + le(0, 2) + le(2, 2); }

std::string column_definition() {
    return lenenc("def") + lenenc("") + lenenc("") + lenenc("") + lenenc("v") + lenenc("") + '\x0c' + le(33, 2) +
           le(255, 4) + '\xfd' + le(0, 2) + '\0' + le(0, 2);
}

}  // namespace

FakeMysqlServer::FakeMysqlServer(Behaviour behaviour) : behaviour_(std::move(behaviour)) {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    int yes = 1;
    setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(listener_, 8) != 0)
        throw std::runtime_error("the fake MySQL server cannot listen on 127.0.0.1");
    socklen_t len = sizeof addr;
    getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
}

FakeMysqlServer::~FakeMysqlServer() {
    stopping_ = true;
    thread_.join();
    close(listener_);
}

std::string FakeMysqlServer::received() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return received_;
}

void FakeMysqlServer::record(const std::string& bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    received_ += bytes;
}

void FakeMysqlServer::serve() {
    std::vector<int> held;  // silent mode keeps connections open without a word
    while (!stopping_) {
        pollfd p{listener_, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) continue;
        int fd = accept(listener_, nullptr, nullptr);
        if (fd < 0) continue;
        if (behaviour_.silent) {
            held.push_back(fd);
            continue;
        }
        session(fd);
        close(fd);
    }
    for (int fd : held) close(fd);
}

namespace {

// Reads exactly n bytes, giving up when the server stops or after 10 s of silence.
bool read_exact(int fd, std::string& out, size_t n, const std::atomic<bool>& stopping) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (out.size() < n) {
        if (stopping || std::chrono::steady_clock::now() > deadline) return false;
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) continue;
        char buf[4096];
        ssize_t got = read(fd, buf, std::min(sizeof buf, n - out.size()));
        if (got <= 0) return false;
        out.append(buf, static_cast<size_t>(got));
    }
    return true;
}

}  // namespace

void FakeMysqlServer::session(int fd) {
    uint8_t seq = 0;
    auto send = [&](const std::string& payload) {
        std::string packet = le(static_cast<uint32_t>(payload.size()), 3) + static_cast<char>(seq++) + payload;
        return write(fd, packet.data(), packet.size()) == static_cast<ssize_t>(packet.size());
    };
    auto receive = [&](std::string& payload) {
        std::string head;
        if (!read_exact(fd, head, 4, stopping_)) return false;
        size_t n = static_cast<unsigned char>(head[0]) | static_cast<unsigned char>(head[1]) << 8 |
                   static_cast<unsigned char>(head[2]) << 16;
        seq = static_cast<uint8_t>(head[3] + 1);
        payload.clear();
        if (!read_exact(fd, payload, n, stopping_)) return false;
        record(payload);
        return true;
    };
    std::string packet;
    if (!send(handshake()) || !receive(packet)) return;
    if (behaviour_.switch_to_clear_password) {
        if (!send("\xfe" + std::string("mysql_clear_password") + '\0') || !receive(packet)) return;
    }
    if (!send(ok_packet())) return;
    while (receive(packet)) {
        seq = 1;
        if (packet.empty() || packet[0] == '\x01') return;  // COM_QUIT
        std::string query = packet[0] == '\x03' ? packet.substr(1) : "";
        if (packet[0] == '\x03' && behaviour_.request_file_on(query)) {
            send("\xfb" + behaviour_.infile_name);
            size_t bytes = 0;
            while (receive(packet) && !packet.empty()) bytes += packet.size();
            if (bytes > 0) ++files_received_;
            send(bytes > 0 ? ok_packet(behaviour_.loaded_rows) : err_packet("no file"));
        } else if (packet[0] == '\x03' && behaviour_.answer_one_on(query)) {
            send(std::string(1, '\x01'));
            send(column_definition());
            send(eof_packet());
            send(lenenc(behaviour_.one_value));
            send(eof_packet());
        } else {
            send(ok_packet());
        }
    }
}

}  // namespace mmmove::test
