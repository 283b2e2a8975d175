// Options: a value that holds the option struct of one registered kind (a loss term, a
// dataset, a generator architecture, ...), so that a config section can carry the options
// of whichever kind its YAML names while every field stays declared once, in its struct.
#pragma once

#include "core/error.h"

#include <memory>
#include <string>
#include <typeinfo>
#include <utility>

namespace mf::config {

class Reader;
class Writer;
class SchemaWriter;

class Options {
 public:
  Options() = default;
  Options(const Options& other) : self_(other.self_ ? other.self_->clone() : nullptr) {}
  Options& operator=(const Options& other) { return *this = Options(other); }
  Options(Options&&) noexcept = default;
  Options& operator=(Options&&) noexcept = default;

  template <class T>
  static Options of(T value = {}) {
    Options o;
    o.self_ = std::make_unique<Model<T>>(std::move(value));
    return o;
  }

  bool empty() const { return !self_; }
  bool holds(const std::type_info& type) const { return self_ && self_->type() == type; }
  bool holds_same(const Options& other) const { return other.self_ && holds(other.self_->type()); }

  // The held options; default-constructed ones when nothing was read (all defaults).
  template <class T>
  const T& as() const {
    static const T defaults{};
    if (!self_) return defaults;
    if (self_->type() != typeid(T)) fail_runtime("config options hold {}, not {}", self_->type().name(), typeid(T).name());
    return static_cast<const Model<T>&>(*self_).value;
  }
  template <class T>
  T& as() {
    if (!self_) *this = of<T>();
    return const_cast<T&>(std::as_const(*this).as<T>());
  }

  // Runs the held struct's validate() if it has one (it throws config::FieldError).
  void validate() const {
    if (self_) self_->validate();
  }

  void visit(Reader& v) { self_->visit(v); }
  void visit(Writer& v) { self_->visit(v); }
  void visit(SchemaWriter& v) { self_->visit(v); }

 private:
  struct Concept {
    virtual ~Concept() = default;
    virtual std::unique_ptr<Concept> clone() const = 0;
    virtual const std::type_info& type() const = 0;
    virtual void visit(Reader&) = 0;
    virtual void visit(Writer&) = 0;
    virtual void visit(SchemaWriter&) = 0;
    virtual void validate() const = 0;
  };
  template <class T>
  struct Model final : Concept {
    explicit Model(T v) : value(std::move(v)) {}
    std::unique_ptr<Concept> clone() const override { return std::make_unique<Model>(value); }
    const std::type_info& type() const override { return typeid(T); }
    void visit(Reader& v) override { value.visit(v); }
    void visit(Writer& v) override { value.visit(v); }
    void visit(SchemaWriter& v) override { value.visit(v); }
    void validate() const override {
      if constexpr (requires { value.validate(); }) value.validate();
    }
    T value;
  };
  std::unique_ptr<Concept> self_;
};

// The options of a kind that has none.
struct NoOptions {
  template <class V>
  void visit(V&) {}
};

}  // namespace mf::config
