#include "transform/transform.h"

#include "catalog/catalog.h"

namespace mmmove {

RowColumns::RowColumns(std::vector<std::string> names) : names_(std::move(names)) {
    lower_.reserve(names_.size());
    for (const auto& n : names_) lower_.push_back(lower(n));
}

int RowColumns::find(std::string_view name) const {
    std::string l = lower(std::string(name));
    for (size_t i = 0; i < lower_.size(); ++i)
        if (lower_[i] == l) return static_cast<int>(i);
    return -1;
}

bool TransformChain::apply(FieldRow& row) {
    bool changed = false;
    for (auto& t : links_) {
        switch (t->apply(row)) {
            case Transform::Result::drop: ++dropped_; return false;
            case Transform::Result::changed: changed = true; break;
            case Transform::Result::unchanged: break;
        }
    }
    if (changed) ++changed_;
    return true;
}

}  // namespace mmmove
