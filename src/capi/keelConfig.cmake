# find_package(keel) -> keel::keel (libkeel.so) and keel::keel_static (libkeel.a).
include(CMakeFindDependencyMacro)
find_dependency(Threads)
include("${CMAKE_CURRENT_LIST_DIR}/keelTargets.cmake")
