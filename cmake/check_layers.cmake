# Fails when a file of src/FOLDER includes "OTHER/..." for a folder OTHER that is not below FOLDER in
# cmake/layers.cmake. The build runs it (target mmmove_layers) and so does scripts/test; by hand:
#   cmake -DMMMOVE_SOURCE_DIR=. -P cmake/check_layers.cmake
# cmake/check_layer_symbols.sh fails on a wrong-way use of a function or variable; this also catches
# what leaves no symbol (a header-only type, an inline function) before it grows into a cycle.
cmake_minimum_required(VERSION 3.22)
if(NOT MMMOVE_SOURCE_DIR)
  set(MMMOVE_SOURCE_DIR "${CMAKE_CURRENT_LIST_DIR}/..")
endif()
get_filename_component(MMMOVE_SOURCE_DIR "${MMMOVE_SOURCE_DIR}" ABSOLUTE)
include(${CMAKE_CURRENT_LIST_DIR}/layers.cmake)

set(wrong "")
file(GLOB folders RELATIVE ${MMMOVE_SOURCE_DIR}/src ${MMMOVE_SOURCE_DIR}/src/*)
foreach(folder ${folders})
  if(NOT IS_DIRECTORY ${MMMOVE_SOURCE_DIR}/src/${folder})
    continue()
  endif()
  if(NOT folder IN_LIST MMMOVE_LAYERS)
    string(APPEND wrong "  src/${folder}/ is in no layer: add it to MMMOVE_LAYERS in cmake/layers.cmake\n")
    continue()
  endif()
  file(GLOB_RECURSE sources RELATIVE ${MMMOVE_SOURCE_DIR}
       ${MMMOVE_SOURCE_DIR}/src/${folder}/*.h ${MMMOVE_SOURCE_DIR}/src/${folder}/*.cpp)
  list(SORT sources)
  foreach(source ${sources})
    file(STRINGS ${MMMOVE_SOURCE_DIR}/${source} includes REGEX "^[ \t]*#[ \t]*include[ \t]*\"[^\"/]+/")
    foreach(line ${includes})
      string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]+)\".*" "\\1" header "${line}")
      string(REGEX REPLACE "/.*" "" target "${header}")
      if(target STREQUAL folder OR NOT target IN_LIST MMMOVE_LAYERS)
        continue()  # its own folder, or not one of src/ (a relative path, a system header)
      endif()
      if(NOT target IN_LIST MMMOVE_BELOW_${folder})
        string(REPLACE ";" ", " allowed "${MMMOVE_BELOW_${folder}}")
        if(allowed)
          set(allowed "only ${allowed}")
        else()
          set(allowed "no other folder of src/")
        endif()
        string(APPEND wrong "  ${source} includes \"${header}\": ${folder} may include ${allowed}\n")
      endif()
    endforeach()
  endforeach()
endforeach()

if(wrong)
  message(FATAL_ERROR "Wrong-way includes (the layering is in cmake/layers.cmake: a folder uses only the "
          "folders below it):\n${wrong}Move what both need down into the lower folder, or call the "
          "upper folder from the layer above both; do not add an exemption.")
endif()
