# One place for every external library lookup. Each becomes an imported
# target named dep::<name> so the rest of the build never sees pkg-config.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

pkg_check_modules(LIBEVENT REQUIRED IMPORTED_TARGET libevent libevent_pthreads)
pkg_check_modules(LIBXML2  REQUIRED IMPORTED_TARGET libxml-2.0)
pkg_check_modules(JANSSON  REQUIRED IMPORTED_TARGET jansson)
pkg_check_modules(YAML     REQUIRED IMPORTED_TARGET yaml-0.1)
pkg_check_modules(SQLITE3  REQUIRED IMPORTED_TARGET sqlite3)
pkg_check_modules(MHD      REQUIRED IMPORTED_TARGET libmicrohttpd)
pkg_check_modules(CRYPTO   REQUIRED IMPORTED_TARGET libcrypto)
pkg_check_modules(CMOCKA   IMPORTED_TARGET cmocka)
pkg_check_modules(OSIP2    IMPORTED_TARGET libosip2)
# ims-hss: freeDiameter allocates and frees every AVP of every message on
# other threads than the ones that allocated them, where glibc's malloc
# pays most (docs/PERFORMANCE.md, HSS round 4). Sanitizers bring their own.
if(IMS_JEMALLOC AND NOT IMS_SANITIZE AND NOT IMS_FUZZ)
  pkg_check_modules(JEMALLOC IMPORTED_TARGET jemalloc)
  if(NOT JEMALLOC_FOUND)
    message(STATUS "jemalloc not found (libjemalloc-dev): ims-hss uses glibc malloc")
  endif()
endif()

# freeDiameter ships no .pc file on Debian
find_path(FD_INCLUDE_DIR freeDiameter/libfdcore.h REQUIRED)
find_library(FD_CORE_LIB fdcore REQUIRED)
find_library(FD_PROTO_LIB fdproto REQUIRED)
add_library(dep_freediameter INTERFACE)
target_include_directories(dep_freediameter INTERFACE ${FD_INCLUDE_DIR})
target_link_libraries(dep_freediameter INTERFACE ${FD_CORE_LIB} ${FD_PROTO_LIB})
add_library(dep::freediameter ALIAS dep_freediameter)
