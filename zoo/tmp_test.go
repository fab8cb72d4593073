package zoo_test

const groupedConv = false
