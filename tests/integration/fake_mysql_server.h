#pragma once
// A hostile MySQL server on 127.0.0.1, in the test process: it speaks just enough of the protocol
// (handshake v10, OK packets, one-column result sets) to attack mmmove's client. It can ask for the
// password in clear text (an auth switch to mysql_clear_password), and it can answer a query with a
// LOCAL INFILE request naming any file. Everything clients send it is recorded, so a test can assert
// that a secret never reached it.
#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace mmmove::test {

class FakeMysqlServer {
public:
    struct Behaviour {
        // Ask for mysql_clear_password after the client's first login packet.
        bool switch_to_clear_password = false;
        // The file a LOCAL INFILE request names, and which queries get such a request instead of an answer.
        std::string infile_name;
        std::function<bool(const std::string& query)> request_file_on = [](const std::string&) { return false; };
        // Queries answered with a one-row, one-column result holding this value (e.g. SELECT @@local_infile).
        std::function<bool(const std::string& query)> answer_one_on = [](const std::string&) { return false; };
        std::string one_value = "1";
        // Affected rows reported after a LOCAL INFILE transfer the client completed.
        unsigned loaded_rows = 0;
        // Accept connections and never answer them (a server that hangs in the handshake).
        bool silent = false;
    };

    explicit FakeMysqlServer(Behaviour behaviour);
    ~FakeMysqlServer();
    FakeMysqlServer(const FakeMysqlServer&) = delete;
    FakeMysqlServer& operator=(const FakeMysqlServer&) = delete;

    int port() const { return port_; }
    // Every byte clients sent, all connections together.
    std::string received() const;
    // How many LOCAL INFILE requests were answered with data (a non-empty transfer).
    int files_received() const { return files_received_; }

private:
    void serve();
    void session(int fd);
    void record(const std::string& bytes);

    Behaviour behaviour_;
    int listener_ = -1;
    int port_ = 0;
    std::atomic<bool> stopping_{false};
    std::atomic<int> files_received_{0};
    mutable std::mutex mutex_;
    std::string received_;
    std::thread thread_;
};

}  // namespace mmmove::test
