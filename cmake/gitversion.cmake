# gitversion.cmake - write OUT, a header defining AIPM_GIT_DESCRIBE: `git
# describe --tags --always --dirty` of the source tree SRC, or "unknown"
# outside a git checkout. Run at every build (CMakeLists.txt); the header
# is replaced only when the text changes, so nothing rebuilds otherwise.
execute_process(
    COMMAND git -C "${SRC}" describe --tags --always --dirty
    OUTPUT_VARIABLE describe
    ERROR_QUIET
    OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR describe STREQUAL "")
    set(describe "unknown")
endif()
set(text "#define AIPM_GIT_DESCRIBE \"${describe}\"\n")
if(EXISTS "${OUT}")
    file(READ "${OUT}" old)
else()
    set(old "")
endif()
if(NOT old STREQUAL text)
    file(WRITE "${OUT}" "${text}")
endif()
